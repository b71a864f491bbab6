"""A client's own request rate, where its role's default does not fit it.

Revision ID: 5b0e3c1d9a27
Revises: 41e9c43699d7
Create Date: 2026-12-02 16:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5b0e3c1d9a27"
down_revision: str | None = "41e9c43699d7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_clients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rate_limit_per_second", sa.Integer(), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_api_clients_rate_limit"), "rate_limit_per_second > 0"
        )


def downgrade() -> None:
    with op.batch_alter_table("api_clients", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_api_clients_rate_limit"), type_="check")
        batch_op.drop_column("rate_limit_per_second")
