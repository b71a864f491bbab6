"""district unions: since when a member is bound to its union; the district an application names

`members.union_bound_at` is when the member became a member of `union_org_code` (a union's
member list is ordered by it); members already bound take their app join, else their creation.
`enrolments.work_district` is the Shanghai district (GB/T 2260 code) an applicant named.

Revision ID: ae111e888656
Revises: 8d2f41c6a0b7
Create Date: 2026-12-02 01:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ae111e888656"
down_revision: str | None = "8d2f41c6a0b7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("work_district", sa.String(length=6), nullable=True))

    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("union_bound_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE members SET union_bound_at = COALESCE(union_joined_at, created_at) "
        "WHERE union_org_code IS NOT NULL"
    )
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_members_union_org_code"))
        batch_op.create_index(
            batch_op.f("ix_members_union_org_code_union_bound_at_id"),
            ["union_org_code", "union_bound_at", "id"],
            unique=False,
        )
        batch_op.create_check_constraint(
            "union_bound", "(union_org_code IS NULL) = (union_bound_at IS NULL)"
        )


def downgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_members_union_bound"), type_="check")
        batch_op.drop_index(batch_op.f("ix_members_union_org_code_union_bound_at_id"))
        batch_op.create_index(
            batch_op.f("ix_members_union_org_code"), ["union_org_code"], unique=False
        )
        batch_op.drop_column("union_bound_at")

    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.drop_column("work_district")
