"""Recomputing every look-up hash under a new LOOKUP_KEY: offline, with the API and workers stopped.

Why offline: `members.id_number_hash` is unique, and that index is what keeps one person from
being enrolled twice (two applications at once, a union batch beside an application). While some
processes hash under the old key and others under the new one, the same person has two hashes
and the index no longer sees the duplicate; a look-up under one key also misses members stored
under the other. Doing it online would need a second hash column with its own unique index,
every writer (applications, batches) writing both, every look-up reading both, a backfill and a
later migration: several releases for a rare rotation whose offline run takes minutes (two
decryptions and up to four HMACs per member, one UPDATE per batch).

Restartable: a hash already under the current key is left alone, one under the previous key is
replaced, and a batch with a hash under neither is refused before anything of it is written (a
wrong previous key, or a row written by a process that ran with yet another key).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import bindparam, select, update

from app.core.crypto import DecryptionError, PersonalDataCipher
from app.core.db import Database
from app.keys.columns import HASHED_TABLE, LOOKUP_HASHES


class RehashRefused(RuntimeError):
    """The stored hashes are not under the previous key nor the current one, or a value does
    not decrypt: nothing of the batch was written."""


@dataclass
class RehashReport:
    rehashed: int = 0  # members whose hashes were replaced
    current: int = 0  # members whose hashes were already under the current key


async def rehash(
    db: Database, cipher: PersonalDataCipher, previous_lookup_key: bytes, *, batch_size: int = 1000
) -> RehashReport:
    """`cipher` holds the current LOOKUP_KEY (and the data keys to read the values with)."""
    previous = cipher.with_lookup_key(previous_lookup_key)
    if previous.lookup_hash("", context="probe") == cipher.lookup_hash("", context="probe"):
        raise RehashRefused("the previous LOOKUP_KEY is the current one: nothing to do")
    table = HASHED_TABLE
    member_id = table.c.id
    query = (
        select(member_id, *(table.c[h] for h, _, _ in LOOKUP_HASHES))
        .add_columns(*(table.c[c] for _, c, _ in LOOKUP_HASHES))
        .order_by(member_id)
        .limit(batch_size)
    )
    write = (
        update(table)
        .where(member_id == bindparam("b_member_id"))
        .values({h: bindparam(f"b_{h}") for h, _, _ in LOOKUP_HASHES})
    )
    report = RehashReport()
    last: uuid.UUID | None = None
    while True:
        async with db.writer() as session:
            page = query if last is None else query.where(member_id > last)
            rows = [dict(r._mapping) for r in (await session.execute(page)).all()]
            params: list[dict[str, Any]] = []
            refused: list[str] = []
            for row in rows:
                status, change = _new_hashes(cipher, previous, row)
                if status == "stale":
                    params.append(change)
                elif status == "neither":
                    refused.append(str(row["id"]))
            if refused:
                raise RehashRefused(
                    "hashes under neither the previous nor the current LOOKUP_KEY for member(s) "
                    + ", ".join(refused[:10])
                    + (f" and {len(refused) - 10} more" if len(refused) > 10 else "")
                )
            if params:
                await session.execute(write, params)
            await session.commit()
        report.rehashed += len(params)
        report.current += len(rows) - len(params)
        if len(rows) < batch_size:
            return report
        last = rows[-1]["id"]


def _new_hashes(
    cipher: PersonalDataCipher, previous: PersonalDataCipher, row: dict[str, Any]
) -> tuple[Literal["current", "stale", "neither"], dict[str, Any]]:
    """Whether the member's hashes are all current, some under the previous key (with the
    UPDATE's parameters), or some under neither key."""
    params: dict[str, Any] = {"b_member_id": row["id"]}
    stale = False
    for hash_column, cipher_column, context in LOOKUP_HASHES:
        try:
            value = cipher.decrypt(row[cipher_column], context=context)
        except DecryptionError as exc:
            raise RehashRefused(f"member {row['id']}: {cipher_column}: {exc}") from exc
        new = cipher.lookup_hash(value, context=context)
        if row[hash_column] != new:
            if row[hash_column] != previous.lookup_hash(value, context=context):
                return "neither", params
            stale = True
        params[f"b_{hash_column}"] = new
    return ("stale" if stale else "current"), params
