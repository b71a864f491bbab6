"""The plan engine: pure Python, no web framework, no database, no clock, no I/O.

It takes facts (dates, amounts, ID numbers, usage so far) and a plan, and returns decisions that
explain themselves. `tests/` enforces the purity with an import-linter contract (pyproject.toml).
"""
