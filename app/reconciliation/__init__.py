"""Reconciliation: the gateway's daily bill matched line by line against what the service
recorded that day (premiums received, refunds made, transfers paid or returned)."""
