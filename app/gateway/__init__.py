"""The payment gateway as a partner: its wire contract, our client for it, and a simulator that
plays it in demos and tests (design section 5). Imports only `app.core`, so any feature that moves
money (payouts, refunds, reconciliation) can use it."""
