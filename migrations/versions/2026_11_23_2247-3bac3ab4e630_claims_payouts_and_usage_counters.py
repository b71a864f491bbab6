"""claims, payouts and usage counters

Revision ID: 3bac3ab4e630
Revises: 2d5d5b351375
Create Date: 2026-11-23 22:47:15.997075+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3bac3ab4e630"
down_revision: str | None = "2d5d5b351375"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "claims",
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("plan_code", sa.String(length=64), nullable=False),
        sa.Column("benefit", sa.String(length=32), nullable=False),
        sa.Column("event_kind", sa.String(length=16), nullable=False),
        sa.Column("event_occurred_on", sa.Date(), nullable=False),
        sa.Column("event_ref", sa.String(length=64), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("filed_on", sa.Date(), nullable=False),
        sa.Column("filed_by_client_id", sa.Uuid(), nullable=False),
        sa.Column("filer_role", sa.String(length=16), nullable=False),
        sa.Column("filer_org_code", sa.String(length=64), nullable=True),
        sa.Column("dedup_key", sa.String(length=64), nullable=True),
        sa.Column("beneficiary_name_cipher", sa.LargeBinary(), nullable=True),
        sa.Column("beneficiary_name_masked", sa.String(length=64), nullable=True),
        sa.Column("beneficiary_id_number_cipher", sa.LargeBinary(), nullable=True),
        sa.Column("beneficiary_id_number_masked", sa.String(length=24), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending_documents', 'pending_review', 'approved', 'rejected')",
            name=op.f("ck_claims_status"),
        ),
        sa.ForeignKeyConstraint(
            ["filed_by_client_id"],
            ["api_clients.id"],
            name=op.f("fk_claims_filed_by_client_id_api_clients"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_claims_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claims")),
        sa.UniqueConstraint("dedup_key", name=op.f("uq_claims_dedup_key")),
    )
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_claims_filed_by_client_id_created_at"),
            ["filed_by_client_id", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_claims_filer_role_filer_org_code_created_at"),
            ["filer_role", "filer_org_code", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_claims_member_id_event_ref"), ["member_id", "event_ref"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_claims_status_created_at"), ["status", "created_at"], unique=False
        )

    op.create_table(
        "claim_documents",
        sa.Column("claim_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("ref", sa.String(length=200), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("added_by_client_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["added_by_client_id"],
            ["api_clients.id"],
            name=op.f("fk_claim_documents_added_by_client_id_api_clients"),
        ),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claims.id"], name=op.f("fk_claim_documents_claim_id_claims")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_claim_documents_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_documents")),
        sa.UniqueConstraint(
            "claim_id", "type", "ref", name=op.f("uq_claim_documents_claim_id_type_ref")
        ),
    )
    op.create_table(
        "claim_decisions",
        sa.Column("claim_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("plan_code", sa.String(length=64), nullable=False),
        sa.Column("plan_version", sa.String(length=32), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("payable_fen", sa.Integer(), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("decided_by", sa.String(length=16), nullable=False),
        sa.Column("decided_by_client_id", sa.Uuid(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("coverage_period_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "decided_by IN ('engine', 'examiner')", name=op.f("ck_claim_decisions_decided_by")
        ),
        sa.CheckConstraint(
            "outcome IN ('approved', 'rejected')", name=op.f("ck_claim_decisions_outcome")
        ),
        sa.CheckConstraint(
            "payable_fen >= 0", name=op.f("ck_claim_decisions_payable_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claims.id"], name=op.f("fk_claim_decisions_claim_id_claims")
        ),
        sa.ForeignKeyConstraint(
            ["coverage_period_id"],
            ["coverage_periods.id"],
            name=op.f("fk_claim_decisions_coverage_period_id_coverage_periods"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_client_id"],
            ["api_clients.id"],
            name=op.f("fk_claim_decisions_decided_by_client_id_api_clients"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_claim_decisions_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_decisions")),
        sa.UniqueConstraint("claim_id", name=op.f("uq_claim_decisions_claim_id")),
    )
    op.create_table(
        "claim_hospital_days",
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("coverage_period_id", sa.Uuid(), nullable=False),
        sa.Column("claim_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claims.id"], name=op.f("fk_claim_hospital_days_claim_id_claims")
        ),
        sa.ForeignKeyConstraint(
            ["coverage_period_id"],
            ["coverage_periods.id"],
            name=op.f("fk_claim_hospital_days_coverage_period_id_coverage_periods"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_claim_hospital_days_member_id_members")
        ),
        sa.PrimaryKeyConstraint("member_id", "day", name=op.f("pk_claim_hospital_days")),
    )
    op.create_table(
        "claim_usage_benefits",
        sa.Column("coverage_period_id", sa.Uuid(), nullable=False),
        sa.Column("benefit", sa.String(length=32), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("paid_fen", sa.Integer(), nullable=False),
        sa.Column("payments", sa.Integer(), nullable=False),
        sa.CheckConstraint("paid_fen >= 0", name=op.f("ck_claim_usage_benefits_paid_not_negative")),
        sa.ForeignKeyConstraint(
            ["coverage_period_id"],
            ["coverage_periods.id"],
            name=op.f("fk_claim_usage_benefits_coverage_period_id_coverage_periods"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_claim_usage_benefits_member_id_members")
        ),
        sa.PrimaryKeyConstraint(
            "coverage_period_id", "benefit", name=op.f("pk_claim_usage_benefits")
        ),
    )
    with op.batch_alter_table("claim_usage_benefits", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_claim_usage_benefits_member_id"), ["member_id"], unique=False
        )

    op.create_table(
        "claim_usage_events",
        sa.Column("coverage_period_id", sa.Uuid(), nullable=False),
        sa.Column("event_ref", sa.String(length=64), nullable=False),
        sa.Column("benefit", sa.String(length=32), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("paid_fen", sa.Integer(), nullable=False),
        sa.Column("disability_grade", sa.Integer(), nullable=True),
        sa.CheckConstraint("paid_fen >= 0", name=op.f("ck_claim_usage_events_paid_not_negative")),
        sa.ForeignKeyConstraint(
            ["coverage_period_id"],
            ["coverage_periods.id"],
            name=op.f("fk_claim_usage_events_coverage_period_id_coverage_periods"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_claim_usage_events_member_id_members")
        ),
        sa.PrimaryKeyConstraint(
            "coverage_period_id", "event_ref", "benefit", name=op.f("pk_claim_usage_events")
        ),
    )
    with op.batch_alter_table("claim_usage_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_claim_usage_events_member_id"), ["member_id"], unique=False
        )

    op.create_table(
        "claim_usage_periods",
        sa.Column("coverage_period_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("total_paid_fen", sa.Integer(), nullable=False),
        sa.Column("hospital_days", sa.Integer(), nullable=False),
        sa.Column("decisions", sa.Integer(), nullable=False),
        sa.Column("died_on", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "hospital_days >= 0", name=op.f("ck_claim_usage_periods_days_not_negative")
        ),
        sa.CheckConstraint(
            "total_paid_fen >= 0", name=op.f("ck_claim_usage_periods_total_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["coverage_period_id"],
            ["coverage_periods.id"],
            name=op.f("fk_claim_usage_periods_coverage_period_id_coverage_periods"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_claim_usage_periods_member_id_members")
        ),
        sa.PrimaryKeyConstraint("coverage_period_id", name=op.f("pk_claim_usage_periods")),
    )
    with op.batch_alter_table("claim_usage_periods", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_claim_usage_periods_member_id"), ["member_id"], unique=False
        )

    op.create_table(
        "payouts",
        sa.Column("claim_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("coverage_period_id", sa.Uuid(), nullable=False),
        sa.Column("benefit", sa.String(length=32), nullable=False),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.Column("payee_kind", sa.String(length=16), nullable=False),
        sa.Column("payee_union_org_code", sa.String(length=64), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "payee_kind IN ('member', 'beneficiary', 'district_union')",
            name=op.f("ck_payouts_payee_kind"),
        ),
        sa.CheckConstraint("amount_fen > 0", name=op.f("ck_payouts_amount_positive")),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claims.id"], name=op.f("fk_payouts_claim_id_claims")
        ),
        sa.ForeignKeyConstraint(
            ["coverage_period_id"],
            ["coverage_periods.id"],
            name=op.f("fk_payouts_coverage_period_id_coverage_periods"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_payouts_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payouts")),
        sa.UniqueConstraint("claim_id", name=op.f("uq_payouts_claim_id")),
    )
    with op.batch_alter_table("payouts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payouts_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_payouts_member_id"), ["member_id"], unique=False)

    op.create_table(
        "payout_notifications",
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("payout_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["payout_id"], ["payouts.id"], name=op.f("fk_payout_notifications_payout_id_payouts")
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_payout_notifications")),
    )
    op.create_table(
        "payout_settlements",
        sa.Column("payout_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_payout_settlements_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["payout_id"], ["payouts.id"], name=op.f("fk_payout_settlements_payout_id_payouts")
        ),
        sa.PrimaryKeyConstraint("payout_id", name=op.f("pk_payout_settlements")),
        sa.UniqueConstraint("event_id", name=op.f("uq_payout_settlements_event_id")),
    )


def downgrade() -> None:
    op.drop_table("payout_settlements")
    op.drop_table("payout_notifications")
    with op.batch_alter_table("payouts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payouts_member_id"))
        batch_op.drop_index(batch_op.f("ix_payouts_created_at"))

    op.drop_table("payouts")
    with op.batch_alter_table("claim_usage_periods", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claim_usage_periods_member_id"))

    op.drop_table("claim_usage_periods")
    with op.batch_alter_table("claim_usage_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claim_usage_events_member_id"))

    op.drop_table("claim_usage_events")
    with op.batch_alter_table("claim_usage_benefits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claim_usage_benefits_member_id"))

    op.drop_table("claim_usage_benefits")
    op.drop_table("claim_hospital_days")
    op.drop_table("claim_decisions")
    op.drop_table("claim_documents")
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claims_status_created_at"))
        batch_op.drop_index(batch_op.f("ix_claims_member_id_event_ref"))
        batch_op.drop_index(batch_op.f("ix_claims_filer_role_filer_org_code_created_at"))
        batch_op.drop_index(batch_op.f("ix_claims_filed_by_client_id_created_at"))

    op.drop_table("claims")
