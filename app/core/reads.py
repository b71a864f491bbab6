"""Several SELECTs answered in one round trip.

A use case that loads what it needs up front (a claim reads the member's periods, usage
counters, earlier claims for the event, the account on file) would otherwise pay one round
trip per query, and on PostgreSQL the round trips, not the queries, were most of the cost. On
PostgreSQL the statements go as one: each one's rows as an array of anonymous records,

    SELECT array((SELECT row(s0.a, s0.b) FROM (<first>) AS s0)) AS r0,
           array((SELECT row(s1.c) FROM (<second>) AS s1)) AS r1

which the driver decodes into tuples of the columns' own types; each statement's order is
kept. On SQLite, where a query costs no network, they run one after another. Either way each
statement's rows come back as named tuples of its columns, through the columns' result
processors (aware timestamps), as a plain `execute` would give them.

The statements are templates, built once (at import) with named bind parameters, and the
values come in `params`: building a statement and its subqueries costs more than sending it,
and the combined statement is built once per combination of templates.

All of them read one snapshot: a read that must see what another transaction committed
while this one waited for a lock belongs after that lock, in a later call.
"""

from __future__ import annotations

import functools
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import NullType

# A SELECT of any columns.
Query = Select[*tuple[Any, ...]]


async def fetch_all(
    session: AsyncSession, statements: Sequence[Query], params: Mapping[str, Any]
) -> list[list[Any]]:
    """The rows of each statement (with `params` for their bind parameters), in the order
    given."""
    if not statements:
        return []
    if session.get_bind().dialect.name != "postgresql":
        return [list((await session.execute(s, params)).all()) for s in statements]
    answers = (await session.execute(_combined(tuple(statements)), params)).one()
    dialect = session.get_bind().dialect
    return [
        _rows(statement, records, dialect)
        for statement, records in zip(statements, answers, strict=True)
    ]


@functools.lru_cache(maxsize=64)
def _combined(statements: tuple[Query, ...]) -> Query:
    return select(
        *(
            func.array(_as_records(statement, n), type_=NullType).label(f"r{n}")
            for n, statement in enumerate(statements)
        )
    )


def _as_records(statement: Query, n: int) -> Any:
    rows = statement.subquery(f"s{n}")
    return select(func.row(*rows.c)).select_from(rows).scalar_subquery()


def _rows(statement: Query, records: list[tuple[Any, ...]], dialect: Dialect) -> list[Any]:
    shape, processors = _reader(statement, dialect)
    if not any(processors):
        return [shape(*record) for record in records]
    return [
        shape(
            *(
                value if process is None else process(value)
                for process, value in zip(processors, record, strict=True)
            )
        )
        for record in records
    ]


@functools.lru_cache(maxsize=256)
def _reader(
    statement: Query, dialect: Dialect
) -> tuple[type[Any], tuple[Callable[[Any], Any] | None, ...]]:
    """The row type of a statement's answers, and each column's result processor."""
    columns = list(statement.selected_columns)
    shape = _shape([c.key or f"c{n}" for n, c in enumerate(columns)])
    return shape, tuple(c.type._cached_result_processor(dialect, None) for c in columns)


_SHAPES: dict[tuple[str, ...], type[Any]] = {}


def _shape(names: list[str]) -> type[Any]:
    """A named tuple of these columns (made once per list of names)."""
    key = tuple(names)
    known = _SHAPES.get(key)
    if known is None:
        known = _SHAPES[key] = namedtuple("Row", key, rename=True)
    return known
