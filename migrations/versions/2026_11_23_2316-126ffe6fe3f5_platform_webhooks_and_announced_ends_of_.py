"""platform webhooks and announced ends of cover

Revision ID: 126ffe6fe3f5
Revises: 3bac3ab4e630
Create Date: 2026-11-23 23:16:21.460670+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "126ffe6fe3f5"
down_revision: str | None = "3bac3ab4e630"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "webhook_endpoints",
        sa.Column("platform_code", sa.String(length=64), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=True),
        sa.Column("secret_cipher", sa.LargeBinary(), nullable=False),
        sa.Column("previous_secret_cipher", sa.LargeBinary(), nullable=True),
        sa.Column("previous_secret_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by_client_id", sa.Uuid(), nullable=True),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_client_id"],
            ["api_clients.id"],
            name=op.f("fk_webhook_endpoints_created_by_client_id_api_clients"),
        ),
        sa.ForeignKeyConstraint(
            ["platform_code"],
            ["platforms.code"],
            name=op.f("fk_webhook_endpoints_platform_code_platforms"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_endpoints")),
    )
    with op.batch_alter_table("webhook_endpoints", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webhook_endpoints_platform_code"), ["platform_code"], unique=False
        )
        batch_op.create_index(
            "uq_webhook_endpoints_active_url",
            ["platform_code", "url"],
            unique=True,
            sqlite_where=sa.text("disabled_at IS NULL"),
            postgresql_where=sa.text("disabled_at IS NULL"),
        )

    op.create_table(
        "webhook_events",
        sa.Column("platform_code", sa.String(length=64), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "type IN ('coverage.activated', 'coverage.ended')", name=op.f("ck_webhook_events_type")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_webhook_events_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["platform_code"],
            ["platforms.code"],
            name=op.f("fk_webhook_events_platform_code_platforms"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_events")),
    )
    with op.batch_alter_table("webhook_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webhook_events_member_id"), ["member_id"], unique=False
        )

    op.create_table(
        "webhook_deliveries",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("endpoint_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=64), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'delivered', 'failed', 'cancelled')",
            name=op.f("ck_webhook_deliveries_status"),
        ),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["webhook_endpoints.id"],
            name=op.f("fk_webhook_deliveries_endpoint_id_webhook_endpoints"),
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["webhook_events.id"],
            name=op.f("fk_webhook_deliveries_event_id_webhook_events"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint(
            "event_id", "endpoint_id", name=op.f("uq_webhook_deliveries_event_id_endpoint_id")
        ),
    )
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webhook_deliveries_endpoint_id_created_at"),
            ["endpoint_id", "created_at"],
            unique=False,
        )

    with op.batch_alter_table("coverage_periods", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("end_announced_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(
            "ix_coverage_periods_end_unannounced",
            ["ends_on"],
            unique=False,
            sqlite_where=sa.text("end_announced_at IS NULL"),
            postgresql_where=sa.text("end_announced_at IS NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("coverage_periods", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_coverage_periods_end_unannounced",
            sqlite_where=sa.text("end_announced_at IS NULL"),
            postgresql_where=sa.text("end_announced_at IS NULL"),
        )
        batch_op.drop_column("end_announced_at")

    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_deliveries_endpoint_id_created_at"))

    op.drop_table("webhook_deliveries")
    with op.batch_alter_table("webhook_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_events_member_id"))

    op.drop_table("webhook_events")
    with op.batch_alter_table("webhook_endpoints", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_webhook_endpoints_active_url",
            sqlite_where=sa.text("disabled_at IS NULL"),
            postgresql_where=sa.text("disabled_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_webhook_endpoints_platform_code"))

    op.drop_table("webhook_endpoints")
