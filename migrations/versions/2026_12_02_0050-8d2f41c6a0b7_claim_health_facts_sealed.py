"""claims' health facts and stored answers sealed at rest

Revision ID: 8d2f41c6a0b7
Revises: 471699c91105
Create Date: 2026-12-02 00:50:00+00:00

A claim's facts, a decision's facts, lines and reasons (diseases, grades, dates of death), and
the answers kept for idempotent replays (which repeat them) move from clear columns into
ciphertext sealed with the personal-data key (`app.core.sealing`). Existing rows are sealed
here with the key of the process that migrates (DATA_KEY); the downgrade opens them again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
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
)
KEYS = {"idempotency_keys": ("client_id", "key")}
# A key whose request is still in flight has no answer yet.
NULLABLE = {"response_body", "response_cipher"}


def _cipher() -> Any:
    from app.core.config import get_settings
    from app.core.crypto import PersonalDataCipher

    return PersonalDataCipher.from_settings(get_settings())


def _stored(value: Any, kind: sa.types.TypeEngine[Any]) -> Any:
    """The value as the model seals it: the JSON document, or the answer's text."""
    if isinstance(kind, sa.JSON) and isinstance(value, str):
        return json.loads(value)
    return value


def _move(seal: bool) -> None:
    """Seal (or open) every stored value; the cipher is made only if there is a row to move."""
    bind = op.get_bind()
    cipher = None
    for table, plain, kind, sealed, context in SEALED:
        source, target = (plain, sealed) if seal else (sealed, plain)
        keys = KEYS.get(table, ("id",))
        rows_of = sa.table(table, *map(sa.column, keys), sa.column(source), sa.column(target))
        rows = bind.execute(sa.select(*(rows_of.c[k] for k in keys), rows_of.c[source])).all()
        for *row_key, value in rows:
            if value is None:
                continue
            cipher = cipher or _cipher()
            if seal:
                plain_json = json.dumps(_stored(value, kind), ensure_ascii=False)
                new = cipher.encrypt(plain_json, context=context)
            else:
                opened = json.loads(cipher.decrypt(value, context=context))
                new = json.dumps(opened) if isinstance(kind, sa.JSON) else opened
            where = [rows_of.c[k] == v for k, v in zip(keys, row_key, strict=True)]
            bind.execute(sa.update(rows_of).where(*where).values({target: new}))


def upgrade() -> None:
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
    for table, plain, kind, _sealed, _context in SEALED:
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column(plain, kind, nullable=True))
    _move(seal=False)
    for table, plain, kind, sealed, _context in SEALED:
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column(sealed)
            if plain not in NULLABLE:
                batch_op.alter_column(plain, existing_type=kind, nullable=False)
