"""Shared infrastructure: settings, clock, database, errors, auth, idempotency, logging."""
