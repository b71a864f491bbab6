"""Autovacuum sooner on the tables that churn: rows written and soon updated or deleted by every
request or batch (idempotency keys, jobs, enrolments and members during batches, a batch's rows
and chunks, payment orders, messages, webhook deliveries, per-phone counts, breakers).

PostgreSQL's defaults vacuum a table once a fifth of it is dead; on a table of a few million
rows that is hundreds of thousands of dead rows every request's scans walk past first. Here a
table is vacuumed once 1% of it (and at least 1,000 rows) is dead, and analysed at 2%. On SQLite
there is nothing to set.

Revision ID: 9c4d2e7f1b38
Revises: 5b0e3c1d9a27
Create Date: 2026-12-02 16:30:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "9c4d2e7f1b38"
down_revision: str | None = "5b0e3c1d9a27"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHURNING = (
    "idempotency_keys",
    "jobs",
    "enrolments",
    "members",
    "enrolment_batch_rows",
    "enrolment_batch_chunks",
    "payment_orders",
    "notifications",
    "notification_phone_days",
    "webhook_deliveries",
    "circuit_breakers",
)
SETTINGS = {
    "autovacuum_vacuum_scale_factor": "0.01",
    "autovacuum_vacuum_threshold": "1000",
    "autovacuum_analyze_scale_factor": "0.02",
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    given = ", ".join(f"{name} = {value}" for name, value in SETTINGS.items())
    for table in CHURNING:
        op.execute(f"ALTER TABLE {table} SET ({given})")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in CHURNING:
        op.execute(f"ALTER TABLE {table} RESET ({', '.join(SETTINGS)})")
