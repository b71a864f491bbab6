"""members, platforms, enrolments, payments, coverage, audit

Revision ID: 7f9a019ba7ea
Revises: 7662d0cc172e
Create Date: 2026-11-23 20:40:44.632623+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7f9a019ba7ea"
down_revision: str | None = "7662d0cc172e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "members",
        sa.Column("id_number_hash", sa.String(length=64), nullable=False),
        sa.Column("id_number_cipher", sa.LargeBinary(), nullable=False),
        sa.Column("id_number_masked", sa.String(length=24), nullable=False),
        sa.Column("name_cipher", sa.LargeBinary(), nullable=False),
        sa.Column("name_masked", sa.String(length=64), nullable=False),
        sa.Column("phone_hash", sa.String(length=64), nullable=False),
        sa.Column("phone_cipher", sa.LargeBinary(), nullable=False),
        sa.Column("phone_masked", sa.String(length=24), nullable=False),
        sa.Column("union_org_code", sa.String(length=64), nullable=True),
        sa.Column("union_member_number", sa.String(length=64), nullable=True),
        sa.Column("union_joined_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sensitive_data_consent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("died_on", sa.Date(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_members")),
        sa.UniqueConstraint("id_number_hash", name=op.f("uq_members_id_number_hash")),
    )
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_members_phone_hash"), ["phone_hash"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_members_union_org_code"), ["union_org_code"], unique=False
        )

    op.create_table(
        "platforms",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("work_types", sa.JSON(), nullable=False),
        sa.Column("verify_url", sa.String(length=500), nullable=False),
        sa.Column("bulk_verify_url", sa.String(length=500), nullable=True),
        sa.Column("credential_cipher", sa.LargeBinary(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_platforms")),
    )
    op.create_table(
        "audit_events",
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=48), nullable=False),
        sa.Column("from_status", sa.String(length=24), nullable=True),
        sa.Column("to_status", sa.String(length=24), nullable=True),
        sa.Column("client_id", sa.Uuid(), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["api_clients.id"], name=op.f("fk_audit_events_client_id_api_clients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_audit_events_entity_entity_id_created_at"),
            ["entity", "entity_id", "created_at"],
            unique=False,
        )

    op.create_table(
        "enrolments",
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("plan_code", sa.String(length=64), nullable=False),
        sa.Column("plan_version", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("platform_code", sa.String(length=64), nullable=False),
        sa.Column("platform_worker_id", sa.String(length=128), nullable=False),
        sa.Column("work_type", sa.String(length=32), nullable=False),
        sa.Column("work_city", sa.String(length=64), nullable=False),
        sa.Column("applied_on", sa.Date(), nullable=False),
        sa.Column("checks", sa.JSON(), nullable=False),
        sa.Column("name_cipher", sa.LargeBinary(), nullable=False),
        sa.Column("phone_cipher", sa.LargeBinary(), nullable=False),
        sa.Column("created_by_client_id", sa.Uuid(), nullable=False),
        sa.Column("reviewed_by_client_id", sa.Uuid(), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending_review', 'awaiting_payment', 'rejected', 'paid', 'refund_due', 'expired')",
            name=op.f("ck_enrolments_status"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_client_id"],
            ["api_clients.id"],
            name=op.f("fk_enrolments_created_by_client_id_api_clients"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_enrolments_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["platform_code"],
            ["platforms.code"],
            name=op.f("fk_enrolments_platform_code_platforms"),
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by_client_id"],
            ["api_clients.id"],
            name=op.f("fk_enrolments_reviewed_by_client_id_api_clients"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrolments")),
    )
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_enrolments_member_id"), ["member_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_enrolments_status_created_at"), ["status", "created_at"], unique=False
        )
        batch_op.create_index(
            "uq_enrolments_open_member",
            ["member_id"],
            unique=True,
            sqlite_where=sa.text("status IN ('pending_review', 'awaiting_payment')"),
            postgresql_where=sa.text("status IN ('pending_review', 'awaiting_payment')"),
        )

    op.create_table(
        "platform_workers",
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("platform_code", sa.String(length=64), nullable=False),
        sa.Column("platform_worker_id", sa.String(length=128), nullable=False),
        sa.Column("work_type", sa.String(length=32), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_platform_workers_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["platform_code"],
            ["platforms.code"],
            name=op.f("fk_platform_workers_platform_code_platforms"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_workers")),
        sa.UniqueConstraint(
            "platform_code",
            "platform_worker_id",
            name=op.f("uq_platform_workers_platform_code_platform_worker_id"),
        ),
    )
    with op.batch_alter_table("platform_workers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_platform_workers_member_id"), ["member_id"], unique=False
        )

    op.create_table(
        "payment_orders",
        sa.Column("enrolment_id", sa.Uuid(), nullable=True),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('open', 'paid')", name=op.f("ck_payment_orders_status")),
        sa.CheckConstraint("amount_fen > 0", name=op.f("ck_payment_orders_amount_positive")),
        sa.ForeignKeyConstraint(
            ["enrolment_id"],
            ["enrolments.id"],
            name=op.f("fk_payment_orders_enrolment_id_enrolments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_orders")),
    )
    with op.batch_alter_table("payment_orders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payment_orders_enrolment_id"), ["enrolment_id"], unique=False
        )

    op.create_table(
        "coverage_periods",
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("plan_code", sa.String(length=64), nullable=False),
        sa.Column("plan_version", sa.String(length=32), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("continues_previous", sa.Boolean(), nullable=False),
        sa.Column("payment_order_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_coverage_periods_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["payment_order_id"],
            ["payment_orders.id"],
            name=op.f("fk_coverage_periods_payment_order_id_payment_orders"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coverage_periods")),
        sa.UniqueConstraint(
            "member_id", "starts_on", name=op.f("uq_coverage_periods_member_id_starts_on")
        ),
        sa.UniqueConstraint("payment_order_id", name=op.f("uq_coverage_periods_payment_order_id")),
    )
    with op.batch_alter_table("coverage_periods", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_coverage_periods_member_id_ends_on"),
            ["member_id", "ends_on"],
            unique=False,
        )

    op.create_table(
        "payment_notifications",
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("payment_order_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["payment_order_id"],
            ["payment_orders.id"],
            name=op.f("fk_payment_notifications_payment_order_id_payment_orders"),
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_payment_notifications")),
    )


def downgrade() -> None:
    op.drop_table("payment_notifications")
    with op.batch_alter_table("coverage_periods", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coverage_periods_member_id_ends_on"))

    op.drop_table("coverage_periods")
    with op.batch_alter_table("payment_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_orders_enrolment_id"))

    op.drop_table("payment_orders")
    with op.batch_alter_table("platform_workers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_platform_workers_member_id"))

    op.drop_table("platform_workers")
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_enrolments_open_member",
            sqlite_where=sa.text("status IN ('pending_review', 'awaiting_payment')"),
            postgresql_where=sa.text("status IN ('pending_review', 'awaiting_payment')"),
        )
        batch_op.drop_index(batch_op.f("ix_enrolments_status_created_at"))
        batch_op.drop_index(batch_op.f("ix_enrolments_member_id"))

    op.drop_table("enrolments")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_entity_entity_id_created_at"))

    op.drop_table("audit_events")
    op.drop_table("platforms")
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_members_union_org_code"))
        batch_op.drop_index(batch_op.f("ix_members_phone_hash"))

    op.drop_table("members")
