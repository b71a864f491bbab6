"""A column's value as PostgreSQL's `jsonb_to_recordset` reads it back into the column's type:
how app.core.writes sends a table's rows as one JSON array."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import JSON, Date, DateTime, LargeBinary, Uuid
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


def json_converter(kind: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    """A value as `jsonb_to_recordset` reads it back into the column's type."""
    if isinstance(kind, TypeDecorator):
        inner = json_converter(kind.impl_instance, dialect)

        def bound(value: Any) -> Any:
            value = kind.process_bind_param(value, dialect)
            return value if value is None or inner is None else inner(value)

        return bound
    if isinstance(kind, JSON):
        return None
    if isinstance(kind, Uuid):
        return str
    if isinstance(kind, LargeBinary):
        return _hex
    if isinstance(kind, Date | DateTime):
        return _iso
    return _plain


def _hex(value: bytes) -> str:
    return "\\x" + value.hex()


def _iso(value: date | datetime) -> str:
    return value.isoformat()


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value
