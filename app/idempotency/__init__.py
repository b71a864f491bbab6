"""`Idempotency-Key` for POSTs that create things: replay, mismatch, in-flight detection.

How it works, and why:

1. Reserve. Before the request's own transaction starts, a short transaction inserts
   `(client, key)` as `in_flight` with the request's hash and a lock expiry, and commits. A second
   request with the same key now finds the row: `in_flight` -> 409 `idempotency_key_in_flight`;
   `completed` with the same hash -> the stored response is replayed; a different hash -> 422
   `idempotency_key_reused`. Committing the reservation first is what makes a concurrent duplicate
   visible on both databases (SQLite has no row locks to wait on).
2. Effect. The endpoint does its work in the request transaction and calls `respond()`, which
   marks the row `completed` with the response in that same transaction. The effect and the stored
   response commit together or not at all.
3. Failure. If the request transaction rolls back (business error, validation error, crash of the
   commit), the reservation is deleted, so the client can retry with the same key. A reservation
   whose process died is taken over once its lock expires.

Only successful (2xx) responses are stored; errors are never replayed.
"""
