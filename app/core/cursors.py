"""Opaque page cursors for lists ordered by (created_at, id): the last row seen, so rows that
share a timestamp are never skipped or repeated."""

from __future__ import annotations

import base64
import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_
from sqlalchemy.orm import InstrumentedAttribute

from app.core.errors import BadRequest


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
