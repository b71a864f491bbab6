"""claims' health facts and stored answers sealed at rest; the log of reads of members' data

Revision ID: 8d2f41c6a0b7
Revises: 471699c91105
Create Date: 2026-12-02 00:50:00+00:00

A claim's facts, a decision's facts, lines and reasons (diseases, grades, dates of death), and
the answers kept for idempotent replays (which repeat them) move from clear columns into
ciphertext sealed with the personal-data key (`app.core.sealing`). Existing rows are sealed
here with the key of the process that migrates (DATA_KEY); the downgrade opens them again.
`member_reads` records every read of a member's personal data (`app.members.reads`);
`members.erased_at` marks a member erased (`app.privacy.erasure`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "8d2f41c6a0b7"
down_revision: str | None = "471699c91105"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, clear column, its type, ciphertext column, associated data), as the models seal them.
SEALED = (
    ("claims", "facts", sa.JSON(), "facts_cipher", "claim.facts"),
    ("claim_decisions", "facts", sa.JSON(), "facts_cipher", "claim_decision.facts"),
    ("claim_decisions", "lines", sa.JSON(), "lines_cipher", "claim_decision.lines"),
    ("claim_decisions", "reasons", sa.JSON(), "reasons_cipher", "claim_decision.reasons"),
    ("idempotency_keys", "response_body", sa.Text(), "response_cipher", "idempotency.response"),
    ("members", "died_on", sa.Date(), "died_on_cipher", "member.died_on"),
    ("claim_usage_periods", "died_on", sa.Date(), "died_on_cipher", "claim_usage_period.died_on"),
    (
        "claim_usage_events",
        "disability_grade",
        sa.Integer(),
        "disability_grade_cipher",
        "claim_usage_event.disability_grade",
    ),
)
KEYS = {
    "idempotency_keys": ("client_id", "key"),
    "claim_usage_periods": ("coverage_period_id",),
    "claim_usage_events": ("coverage_period_id", "event_ref", "benefit"),
}
# Columns that may hold nothing: an answer not given yet, no death, no grade.
NULLABLE = {
    "response_body",
    "response_cipher",
    "died_on",
    "died_on_cipher",
    "disability_grade",
    "disability_grade_cipher",
}


def _cipher() -> Any:
    from app.core.config import get_settings
    from app.core.crypto import PersonalDataCipher

    return PersonalDataCipher.from_settings(get_settings())


def _as_json(value: Any, kind: sa.types.TypeEngine[Any]) -> Any:
    """The stored clear value as the model seals it (JSON: a date as its ISO form)."""
    if isinstance(kind, sa.JSON) and isinstance(value, str):
        return json.loads(value)
    if isinstance(kind, sa.Date):
        return value if isinstance(value, str) else value.isoformat()
    return value


def _from_json(value: Any, kind: sa.types.TypeEngine[Any]) -> Any:
    return date.fromisoformat(value) if isinstance(kind, sa.Date) else value


def _move(seal: bool) -> None:
    """Seal (or open) every stored value; the cipher is made only if there is a row to move."""
    bind = op.get_bind()
    cipher = None
    for table, plain, kind, sealed, context in SEALED:
        keys = KEYS.get(table, ("id",))
        rows_of = sa.table(
            table,
            *map(sa.column, keys),
            sa.column(plain, kind),
            sa.column(sealed, sa.LargeBinary()),
        )
        source, target = (plain, sealed) if seal else (sealed, plain)
        rows = bind.execute(sa.select(*(rows_of.c[k] for k in keys), rows_of.c[source])).all()
        for *row_key, value in rows:
            if value is None:
                continue
            cipher = cipher or _cipher()
            if seal:
                text = json.dumps(_as_json(value, kind), ensure_ascii=False)
                new = cipher.encrypt(text, context=context)
            else:
                new = _from_json(json.loads(cipher.decrypt(value, context=context)), kind)
            where = [rows_of.c[k] == v for k, v in zip(keys, row_key, strict=True)]
            bind.execute(sa.update(rows_of).where(*where).values({target: new}))


def upgrade() -> None:
    with op.batch_alter_table("members") as batch_op:
        batch_op.add_column(sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "member_reads",
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("operation", sa.String(length=48), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["api_clients.id"], name=op.f("fk_member_reads_client_id_api_clients")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_member_reads_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_reads")),
    )
    op.create_index(
        op.f("ix_member_reads_member_id_created_at_id"),
        "member_reads",
        ["member_id", "created_at", "id"],
        unique=False,
    )
    for table, _plain, _kind, sealed, _context in SEALED:
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column(sealed, sa.LargeBinary(), nullable=True))
    _move(seal=True)
    for table, plain, _kind, sealed, _context in SEALED:
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column(plain)
            if sealed not in NULLABLE:
                batch_op.alter_column(sealed, existing_type=sa.LargeBinary(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("members") as batch_op:
        batch_op.drop_column("erased_at")
    op.drop_index(op.f("ix_member_reads_member_id_created_at_id"), table_name="member_reads")
    op.drop_table("member_reads")
    for table, plain, kind, _sealed, _context in SEALED:
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column(plain, kind, nullable=True))
    _move(seal=False)
    for table, plain, kind, sealed, _context in SEALED:
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column(sealed)
            if plain not in NULLABLE:
                batch_op.alter_column(plain, existing_type=kind, nullable=False)
