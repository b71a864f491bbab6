"""Renewal openings announced once per period; the webhook event `coverage.renewal_open`.

Periods that ended before this migration need no announcement and are marked at once, so the
partial index of periods still to announce holds only current and future ones.

Revision ID: 471699c91105
Revises: 47c3553024f1
Create Date: 2026-12-02 00:10:02.561940+00:00
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision: str = "471699c91105"
down_revision: str | None = "47c3553024f1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TYPES_BEFORE = "type IN ('coverage.activated', 'coverage.ended')"
_TYPES_AFTER = "type IN ('coverage.activated', 'coverage.ended', 'coverage.renewal_open')"


def upgrade() -> None:
    with op.batch_alter_table("coverage_periods", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("renewal_announced_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(
            "ix_coverage_periods_renewal_unannounced",
            ["ends_on"],
            unique=False,
            sqlite_where=sa.text("renewal_announced_at IS NULL"),
            postgresql_where=sa.text("renewal_announced_at IS NULL"),
        )
    now = datetime.now(UTC)
    op.execute(
        sa.text(
            "UPDATE coverage_periods SET renewal_announced_at = :now WHERE ends_on < :today"
        ).bindparams(
            sa.bindparam("now", now, type_=sa.DateTime(timezone=True)),
            sa.bindparam(
                "today", now.astimezone(ZoneInfo("Asia/Shanghai")).date(), type_=sa.Date()
            ),
        )
    )
    _event_types(_TYPES_AFTER)


def downgrade() -> None:
    op.execute(
        "DELETE FROM webhook_deliveries WHERE event_id IN "
        "(SELECT id FROM webhook_events WHERE type = 'coverage.renewal_open')"
    )
    op.execute("DELETE FROM webhook_events WHERE type = 'coverage.renewal_open'")
    _event_types(_TYPES_BEFORE)
    with op.batch_alter_table("coverage_periods", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_coverage_periods_renewal_unannounced",
            sqlite_where=sa.text("renewal_announced_at IS NULL"),
            postgresql_where=sa.text("renewal_announced_at IS NULL"),
        )
        batch_op.drop_column("renewal_announced_at")


def _event_types(condition: str) -> None:
    with op.batch_alter_table("webhook_events", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_webhook_events_type"), type_="check")
        batch_op.create_check_constraint(op.f("ck_webhook_events_type"), condition)
