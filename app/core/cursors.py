"""Opaque page cursors for lists ordered by (created_at, id): the last row seen, so rows that
share a timestamp are never skipped or repeated."""

from __future__ import annotations

import base64
import uuid
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.core.errors import BadRequest
from app.core.models import Base


def cursor_of(created_at: datetime, row_id: uuid.UUID) -> str:
    raw = f"{created_at.isoformat()}|{row_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def after(
    cursor: str,
    created_at: InstrumentedAttribute[datetime],
    row_id: InstrumentedAttribute[uuid.UUID],
) -> ColumnElement[bool]:
    """The condition "after this cursor" on a table's (created_at, id); 400 for a cursor this
    service did not give."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, _, ident = raw.partition("|")
        last_at, last_id = datetime.fromisoformat(moment), uuid.UUID(ident)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("this cursor was not given by this list", code="invalid_cursor") from exc
    if last_at.tzinfo is None:
        raise BadRequest("this cursor was not given by this list", code="invalid_cursor")
    return or_(created_at > last_at, and_(created_at == last_at, row_id > last_id))


# Any table with `created_at` and `id` (the CreatedAt and UUIDPrimaryKey mixins).
Row = TypeVar("Row", bound=Base)


async def oldest_first(
    session: AsyncSession,
    model: type[Row],
    limit: int,
    cursor: str | None,
    *conditions: ColumnElement[bool],
) -> tuple[list[Row], str | None]:
    """A page of `model`'s rows, oldest first, after `cursor`; and the next page's cursor (None
    on the last page)."""
    table: Any = model
    query = select(model).where(*conditions).order_by(table.created_at, table.id).limit(limit + 1)
    if cursor:
        query = query.where(after(cursor, table.created_at, table.id))
    rows = list((await session.scalars(query)).all())
    more, rows = len(rows) > limit, rows[:limit]
    last: Any = rows[-1] if rows else None
    return rows, cursor_of(last.created_at, last.id) if more and last is not None else None
