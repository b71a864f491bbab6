"""enrolment batches

Revision ID: 2d5d5b351375
Revises: ed1c00ddf35d
Create Date: 2026-11-23 21:39:31.564511+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "2d5d5b351375"
down_revision: str | None = "ed1c00ddf35d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "enrolment_batches",
        sa.Column("union_org_code", sa.String(length=64), nullable=False),
        sa.Column("created_by_client_id", sa.Uuid(), nullable=False),
        sa.Column("plan_code", sa.String(length=64), nullable=False),
        sa.Column("plan_version", sa.String(length=32), nullable=False),
        sa.Column("applied_on", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("chunk_count", sa.Integer(), nullable=False),
        sa.Column("processed", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("duplicate", sa.Integer(), nullable=False),
        sa.Column("activated", sa.Integer(), nullable=False),
        sa.Column("refund_due", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'done', 'failed')",
            name=op.f("ck_enrolment_batches_status"),
        ),
        sa.CheckConstraint(
            "processed = accepted + rejected + duplicate AND processed <= total",
            name=op.f("ck_enrolment_batches_counts"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_client_id"],
            ["api_clients.id"],
            name=op.f("fk_enrolment_batches_created_by_client_id_api_clients"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrolment_batches")),
    )
    with op.batch_alter_table("enrolment_batches", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_enrolment_batches_union_org_code_created_at"),
            ["union_org_code", "created_at"],
            unique=False,
        )

    op.create_table(
        "enrolment_batch_chunks",
        sa.Column("batch_id", sa.Uuid(), nullable=False),
        sa.Column("chunk_no", sa.Integer(), nullable=False),
        sa.Column("first_row", sa.Integer(), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("rows_cipher", sa.LargeBinary(), nullable=True),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["enrolment_batches.id"],
            name=op.f("fk_enrolment_batch_chunks_batch_id_enrolment_batches"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("batch_id", "chunk_no", name=op.f("pk_enrolment_batch_chunks")),
    )
    op.create_table(
        "enrolment_batch_rows",
        sa.Column("batch_id", sa.Uuid(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("codes", sa.JSON(), nullable=False),
        sa.Column("duplicate_of_row", sa.Integer(), nullable=True),
        sa.Column("member_id", sa.Uuid(), nullable=True),
        sa.Column("enrolment_id", sa.Uuid(), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('accepted', 'rejected', 'duplicate')",
            name=op.f("ck_enrolment_batch_rows_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["enrolment_batches.id"],
            name=op.f("fk_enrolment_batch_rows_batch_id_enrolment_batches"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["enrolment_id"],
            ["enrolments.id"],
            name=op.f("fk_enrolment_batch_rows_enrolment_id_enrolments"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_enrolment_batch_rows_member_id_members")
        ),
        sa.PrimaryKeyConstraint("batch_id", "row_number", name=op.f("pk_enrolment_batch_rows")),
    )
    with op.batch_alter_table("enrolment_batch_rows", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_enrolment_batch_rows_batch_id_outcome_row_number"),
            ["batch_id", "outcome", "row_number"],
            unique=False,
        )

    # Every existing period came from an individual order, which names its enrolment.
    with op.batch_alter_table("coverage_periods", schema=None) as batch_op:
        batch_op.add_column(sa.Column("enrolment_id", sa.Uuid(), nullable=True))
    op.execute(
        "UPDATE coverage_periods SET enrolment_id = (SELECT payment_orders.enrolment_id"
        " FROM payment_orders WHERE payment_orders.id = coverage_periods.payment_order_id)"
    )
    with op.batch_alter_table("coverage_periods", schema=None) as batch_op:
        batch_op.alter_column("enrolment_id", existing_type=sa.Uuid(), nullable=False)
        batch_op.drop_constraint(batch_op.f("uq_coverage_periods_payment_order_id"), type_="unique")
        batch_op.create_index(
            batch_op.f("ix_coverage_periods_payment_order_id"), ["payment_order_id"], unique=False
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_coverage_periods_enrolment_id"), ["enrolment_id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_coverage_periods_enrolment_id_enrolments"),
            "enrolments",
            ["enrolment_id"],
            ["id"],
        )

    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("batch_id", sa.Uuid(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_enrolments_batch_id_status"), ["batch_id", "status"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_enrolments_batch_id_enrolment_batches"),
            "enrolment_batches",
            ["batch_id"],
            ["id"],
        )

    with op.batch_alter_table("payment_orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("batch_id", sa.Uuid(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_payment_orders_batch_id"), ["batch_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_payment_orders_batch_id_enrolment_batches"),
            "enrolment_batches",
            ["batch_id"],
            ["id"],
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_payment_orders_pays_for_one"),
            "(enrolment_id IS NULL) <> (batch_id IS NULL)",
        )


def downgrade() -> None:
    with op.batch_alter_table("payment_orders", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_payment_orders_pays_for_one"), type_="check")
        batch_op.drop_constraint(
            batch_op.f("fk_payment_orders_batch_id_enrolment_batches"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("uq_payment_orders_batch_id"), type_="unique")
        batch_op.drop_column("batch_id")

    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_enrolments_batch_id_enrolment_batches"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_enrolments_batch_id_status"))
        batch_op.drop_column("batch_id")

    with op.batch_alter_table("coverage_periods", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_coverage_periods_enrolment_id_enrolments"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("uq_coverage_periods_enrolment_id"), type_="unique")
        batch_op.drop_index(batch_op.f("ix_coverage_periods_payment_order_id"))
        batch_op.create_unique_constraint(
            batch_op.f("uq_coverage_periods_payment_order_id"), ["payment_order_id"]
        )
        batch_op.drop_column("enrolment_id")

    with op.batch_alter_table("enrolment_batch_rows", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enrolment_batch_rows_batch_id_outcome_row_number"))

    op.drop_table("enrolment_batch_rows")
    op.drop_table("enrolment_batch_chunks")
    with op.batch_alter_table("enrolment_batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enrolment_batches_union_org_code_created_at"))

    op.drop_table("enrolment_batches")
