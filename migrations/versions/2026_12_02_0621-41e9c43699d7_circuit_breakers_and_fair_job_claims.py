"""Fair work: a circuit breaker per partner (state shared by every process), and what a fair
job claim needs (whose work a job is; an index to claim within a lane's kinds).

Revision ID: 41e9c43699d7
Revises: 45fa859d4407
Create Date: 2026-12-02 06:21:52.543676+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "41e9c43699d7"
down_revision: str | None = "45fa859d4407"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "circuit_breakers",
        sa.Column("partner", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("trips", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("probe_by", sa.String(length=32), nullable=True),
        sa.Column("probe_until", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('closed', 'half_open', 'open')", name=op.f("ck_circuit_breakers_state")
        ),
        sa.CheckConstraint("failures >= 0 AND trips >= 0", name=op.f("ck_circuit_breakers_counts")),
        sa.PrimaryKeyConstraint("partner", "name", name=op.f("pk_circuit_breakers")),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fair_key", sa.String(length=80), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_jobs_kind_status_run_after"),
            ["kind", "status", "run_after"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jobs_kind_status_run_after"))
        batch_op.drop_column("fair_key")

    op.drop_table("circuit_breakers")
