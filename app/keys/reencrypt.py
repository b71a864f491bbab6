"""Moving every encrypted value to the current DATA_KEY, online, in short transactions.

Why this is safe while the API and the job workers run:
- Each batch is one short transaction, and each row in it is rewritten from its current value
  by a compare-and-set: `UPDATE ... SET col = new WHERE pk = ... AND col = <the value read>`.
  If a request or a job changed the row after it was read, the update matches nothing, the row
  is read again and rewritten from what is there now. A value is never put back over a newer one.
- Every process already runs with the new DATA_KEY (and the old one in DATA_KEYS_RETIRED) before
  this starts, so a value written meanwhile is already under the new key and is left alone.
  Readers never care which key a value is under: the version-2 header names it.
- Rows are walked in primary-key order, and only values not under the current key are read
  (`substr(col, 1, 5)` against the current header), so a run after an interruption, or a second
  run, touches only what is left. On SQLite each batch holds the write lock for its few
  milliseconds; on PostgreSQL a deadlock or a lock timeout against a request retries the batch.

When the closing count says nothing is left, the retired key can be removed from every process.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, LargeBinary, and_, func, literal, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.crypto import DecryptionError, PersonalDataCipher
from app.core.db import Database
from app.keys.columns import ENCRYPTED, EncryptedColumns

_ATTEMPTS = 5
# PostgreSQL: serialization failure, deadlock, lock not available.
_TRANSIENT_SQLSTATES = frozenset({"40001", "40P01", "55P03"})


@dataclass
class ColumnReport:
    column: str
    rewritten: int = 0
    left: int = 0  # counted after the pass: values still not under the current key


@dataclass
class ReencryptReport:
    columns: list[ColumnReport]
    # Values no configured key opens ("table.column key=..."): never shown, never rewritten.
    unreadable: list[str] = field(default_factory=list)
    # Rows changed by someone else on every attempt: run again.
    contended: int = 0

    def column(self, label: str) -> ColumnReport:
        return next(c for c in self.columns if c.column == label)

    @property
    def rewritten(self) -> int:
        return sum(c.rewritten for c in self.columns)

    @property
    def left(self) -> int:
        return sum(c.left for c in self.columns)


def _stale(cipher: PersonalDataCipher, spec: EncryptedColumns) -> ColumnElement[bool]:
    """Some value of the row is not under the current key (NULLs never match)."""
    header = literal(cipher.current_header, LargeBinary)
    width = len(cipher.current_header)
    return or_(
        *(
            func.substr(spec.table.c[name], 1, width, type_=LargeBinary) != header
            for name in spec.contexts
        )
    )


def _after(spec: EncryptedColumns, last: Sequence[Any]) -> ColumnElement[bool]:
    """Rows past `last` in primary-key order (spelled out: row values differ by backend)."""
    pk = list(spec.table.primary_key.columns)
    return or_(
        *(and_(*(pk[j] == last[j] for j in range(i)), pk[i] > last[i]) for i in range(len(pk)))
    )


def _transient(exc: DBAPIError) -> bool:
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return code in _TRANSIENT_SQLSTATES or "database is locked" in str(exc.orig)


async def reencrypt(
    db: Database, cipher: PersonalDataCipher, *, batch_size: int = 500
) -> ReencryptReport:
    report = ReencryptReport(
        [ColumnReport(spec.label(name)) for spec in ENCRYPTED for name in spec.contexts]
    )
    for spec in ENCRYPTED:
        await _reencrypt_table(db, cipher, spec, min(batch_size, spec.max_batch), report)
    for spec in ENCRYPTED:
        for name, left in (await count_stale(db, cipher, spec)).items():
            report.column(spec.label(name)).left = left
    return report


async def count_stale(
    db: Database, cipher: PersonalDataCipher, spec: EncryptedColumns
) -> dict[str, int]:
    """Per column, how many values are not under the current key."""
    header = literal(cipher.current_header, LargeBinary)
    width = len(cipher.current_header)
    counts = {}
    async with db.reader() as session:
        for name in spec.contexts:
            column = spec.table.c[name]
            query = select(func.count()).where(
                func.substr(column, 1, width, type_=LargeBinary) != header
            )
            counts[name] = int(await session.scalar(query) or 0)
    return counts


async def _reencrypt_table(
    db: Database,
    cipher: PersonalDataCipher,
    spec: EncryptedColumns,
    batch_size: int,
    report: ReencryptReport,
) -> None:
    pk = list(spec.table.primary_key.columns)
    query = (
        select(*pk, *(spec.table.c[name] for name in spec.contexts))
        .where(_stale(cipher, spec))
        .order_by(*pk)
        .limit(batch_size)
    )
    last: tuple[Any, ...] | None = None
    while True:
        for attempt in range(_ATTEMPTS):
            tally = _Tally()
            try:
                async with db.writer() as session:
                    page = query if last is None else query.where(_after(spec, last))
                    rows = [dict(r._mapping) for r in (await session.execute(page)).all()]
                    for row in rows:
                        await _rewrite_row(session, cipher, spec, row, tally)
                    await session.commit()
                break
            except DBAPIError as exc:
                if attempt == _ATTEMPTS - 1 or not _transient(exc):
                    raise
                await asyncio.sleep(0.1 * 2**attempt)
        tally.add_to(report, spec)
        if len(rows) < batch_size:
            return
        last = tuple(rows[-1][c.name] for c in pk)


@dataclass
class _Tally:
    """One batch's counts, added to the report only once its transaction has committed."""

    rewritten: dict[str, int] = field(default_factory=dict)
    unreadable: set[str] = field(default_factory=set)
    contended: int = 0

    def add_to(self, report: ReencryptReport, spec: EncryptedColumns) -> None:
        for name, n in self.rewritten.items():
            report.column(spec.label(name)).rewritten += n
        report.unreadable.extend(sorted(self.unreadable))
        report.contended += self.contended


async def _rewrite_row(
    session: AsyncSession,
    cipher: PersonalDataCipher,
    spec: EncryptedColumns,
    row: Mapping[str, Any],
    tally: _Tally,
) -> None:
    """Compare-and-set each stale value of one row; re-read and retry if it changed meanwhile."""
    table = spec.table
    pk = list(table.primary_key.columns)
    key = [c == row[c.name] for c in pk]
    for _ in range(_ATTEMPTS):
        changes: dict[str, bytes] = {}
        for name, context in spec.contexts.items():
            blob = row[name]
            if blob is None or cipher.is_current(blob):
                continue
            try:
                changes[name] = cipher.reencrypt_bytes(blob, context=context(row))
            except DecryptionError as exc:
                where = ",".join(f"{c.name}={row[c.name]}" for c in pk)
                tally.unreadable.add(f"{spec.label(name)} {where}: {exc}")
        if not changes:
            return
        unchanged = [table.c[name] == row[name] for name in changes]
        result = await session.execute(update(table).where(*key, *unchanged).values(**changes))
        if result.rowcount == 1:  # type: ignore[attr-defined]
            for name in changes:
                tally.rewritten[name] = tally.rewritten.get(name, 0) + 1
            return
        columns = [*pk, *(table.c[name] for name in spec.contexts)]
        fresh = (await session.execute(select(*columns).where(*key))).first()
        if fresh is None:  # deleted meanwhile (an erased upload, say): nothing to move
            return
        row = dict(fresh._mapping)
    tally.contended += 1
