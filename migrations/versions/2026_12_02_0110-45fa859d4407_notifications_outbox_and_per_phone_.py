"""Messages to workers: the notifications outbox, and each phone's messages per day (its cap).

Revision ID: 45fa859d4407
Revises: ae111e888656
Create Date: 2026-12-02 01:10:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "45fa859d4407"
down_revision: str | None = "ae111e888656"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notification_phone_days",
        sa.Column("phone_hash", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "messages >= 0", name=op.f("ck_notification_phone_days_messages_not_negative")
        ),
        sa.PrimaryKeyConstraint("phone_hash", "day", name=op.f("pk_notification_phone_days")),
    )
    op.create_table(
        "notifications",
        sa.Column("event_key", sa.String(length=160), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("held_by_job", sa.Uuid(), nullable=True),
        sa.Column("held_by", sa.String(length=64), nullable=True),
        sa.Column("counted_on", sa.Date(), nullable=True),
        sa.Column("gateway_ref", sa.String(length=64), nullable=True),
        sa.Column("last_error", sa.String(length=64), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('application_accepted', 'application_pending_review', 'application_refused', 'cover_started', 'renewal_open', 'cover_ended', 'claim_received', 'claim_documents_needed', 'claim_approved', 'claim_refused', 'payout_paid', 'payout_failed', 'refund_paid')",
            name=op.f("ck_notifications_kind"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'sending', 'sent', 'capped', 'failed', 'skipped')",
            name=op.f("ck_notifications_status"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_notifications_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("event_key", name=op.f("uq_notifications_event_key")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notifications_member_id_created_at"),
            ["member_id", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_notifications_status_created_at"), ["status", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notifications_status_created_at"))
        batch_op.drop_index(batch_op.f("ix_notifications_member_id_created_at"))

    op.drop_table("notifications")
    op.drop_table("notification_phone_days")
