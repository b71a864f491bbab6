"""Signed webhooks to platform partners: `coverage.activated`, `coverage.ended` and
`coverage.renewal_open` for their workers, written to an outbox in the transaction that changes
cover and delivered by the job worker, at least once, with retries for a day (docs/adr/0003)."""
