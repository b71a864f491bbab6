"""The fund's double-entry ledger: every movement of money posts balanced lines, in the
transaction of the change that causes it, and no line is ever updated."""
