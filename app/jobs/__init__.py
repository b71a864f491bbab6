"""Background jobs in the database itself: enqueued in the transaction of the change that needs
them, claimed by any number of workers (PostgreSQL: `FOR UPDATE SKIP LOCKED`), leased, and
reclaimed when a worker dies. No second datastore."""
