"""Many rows at once: new rows into one table in the session's transaction (PostgreSQL's COPY,
elsewhere one executemany), and a condition on a column being one of many values.

An INSERT run once per row costs the server a statement each (bind, plan, execute) and the
client the ORM's and the statement's handling of every value; a batch chunk writes a thousand
rows into each of three tables. COPY sends them as one stream of values. The values go through
each column type's own bind processing, as an INSERT's would, so what is stored is the same.
Columns not given take their database default, and Python-side defaults are filled here; no
RETURNING, no ORM events.

`column IN (v1, ..., v1000)` is a statement with a thousand parameters, built and bound value by
value, and a new text (to parse and plan again) for every count; on PostgreSQL `among` sends
`column = ANY($1)` with one array parameter instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

from sqlalchemy import ARRAY, ColumnElement, Dialect, Table, any_, bindparam, insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute


async def insert_rows(
    session: AsyncSession, model: type[Any], rows: Sequence[Mapping[str, Any]]
) -> None:
    """Insert the rows (column name to value) into the model's table."""
    if not rows:
        return
    table = cast(Table, model.__table__)
    connection = await session.connection()
    dialect = connection.dialect
    if dialect.name != "postgresql" or dialect.driver != "asyncpg":
        await session.execute(insert(table), list(rows))
        return
    names = _columns(table, rows)
    records = _records(table, dialect, names, rows)
    raw = await connection.get_raw_connection()
    if getattr(raw.dbapi_connection, "_transaction", True) is None:
        # The driver sends BEGIN with the transaction's first statement; COPY must be inside it.
        await connection.exec_driver_sql("SELECT 1")
    try:
        await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
            table.name, records=records, columns=names, schema_name=table.schema
        )
    except Exception as error:
        raise _translated(raw.dbapi_connection, dialect, table.name, error) from error


def _translated(adapter: Any, dialect: Dialect, table: str, error: Exception) -> Exception:
    """The driver's error as an INSERT would have raised it (`IntegrityError` for a unique key,
    with the database's SQLSTATE), through the dialect's own translation."""
    try:
        adapter._handle_exception(error)
    except Exception as dbapi_error:
        base = dialect.loaded_dbapi.Error
        if isinstance(dbapi_error, base):
            return DBAPIError.instance(f"COPY {table}", None, dbapi_error, base, dialect=dialect)
        return dbapi_error
    return error


def _records(
    table: Table, dialect: Dialect, names: list[str], rows: Sequence[Mapping[str, Any]]
) -> list[tuple[Any, ...]]:
    """The rows' values in the columns' order, bound as an INSERT would bind them (column by
    column: most columns need nothing done)."""
    keys = rows[0].keys()
    if len(keys) == len(names) and all(row.keys() == keys for row in rows):
        columns = [[row[name] for row in rows] for name in names]
    else:
        columns = [[_given(table, row, name) for row in rows] for name in names]
    for name, values in zip(names, columns, strict=True):
        process = table.c[name].type.bind_processor(dialect)
        if process is None:
            continue
        # Rows often share one object (the chunk's time, a list of checks): bound once. The
        # rows hold every value for the whole loop, so no two of them share an id.
        bound: dict[int, Any] = {}
        for index, value in enumerate(values):
            key = id(value)
            if key not in bound:
                bound[key] = process(value)
            values[index] = bound[key]
    return list(zip(*columns, strict=True))


def _columns(table: Table, rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """The columns the rows give, and those with a Python-side default."""
    given = dict.fromkeys(name for row in rows[:1] for name in row)
    for column in table.columns:
        if column.default is not None and column.name not in given:
            given[column.name] = None
    return list(given)


def _given(table: Table, row: Mapping[str, Any], name: str) -> Any:
    """The row's value, or the column's Python-side default."""
    if name in row:
        return row[name]
    default = table.c[name].default
    if default is None or not (default.is_scalar or default.is_callable):
        return None
    return default.arg if default.is_scalar else default.arg(None)  # type: ignore[attr-defined]


def among(
    column: ColumnElement[Any] | QueryableAttribute[Any], values: Iterable[Any], dialect: Dialect
) -> ColumnElement[bool]:
    """`column IN values`, as one array parameter on PostgreSQL."""
    element = column.expression if isinstance(column, QueryableAttribute) else column
    listed = list(values)
    if dialect.name == "postgresql":
        return element == any_(bindparam(None, listed, type_=ARRAY(element.type)))
    return element.in_(listed)
