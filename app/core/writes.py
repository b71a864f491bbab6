"""Rows a request writes, queued and sent to the database in one round trip.

Recording a claim's decision writes a dozen rows into as many tables (the claim, its documents
and decision, three usage counters, the payout, ledger lines, audit events, a message and its
job, the stored answer). Flushed by the ORM, each table is a statement and each statement a
round trip, whose cost on the client and on the server was most of a claim's. Queued here
instead, they go as one statement on PostgreSQL: each table's rows as one JSON array, unpacked by
`jsonb_to_recordset` inside a data-modifying `WITH`. Foreign keys are checked at the end of that
statement, so the order of its parts does not matter. On SQLite, where a statement costs no
network, the same rows are written table by table in the metadata's dependency order.

What can be queued:

- `add`: new rows, given as model instances (column defaults and sealed values are filled in as
  the ORM would, so the instance can answer the request afterwards); `adopt` queues the
  instances a use case added to the session (through the modules that record audit events,
  ledger entries, jobs...) instead of leaving them to the ORM's flush;
- `add_new`: a row that must not exist yet: one that does refuses the whole transaction with
  the given error;
- `upsert`: a counter row inserted or added to (`add` columns are summed, `keep` columns keep
  the stored value if any, `replace` columns take the new one if given), whose values after the
  write are handed to `check`; a check that fails refuses the transaction with its error.

Queued rows are not visible to queries until flushed: a use case queues them in its last step.
`flush` sends them (`app.idempotency` flushes with the stored answer); whatever is still queued
is flushed before the session commits, and dropped when it rolls back.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    JSON,
    Table,
    bindparam,
    column,
    event,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapper, Session, class_mapper

from app.core import sealing
from app.core.json_values import json_converter

PENDING = "pending_writes"
_ADD, _ADD_NEW, _UPSERT = "add", "add_new", "upsert"


@dataclass(frozen=True)
class _Shape:
    """What makes two queued writes the same statement: the table, the kind of write, the
    columns given, and for an upsert its conflict target and what it does with each column."""

    table: Table
    kind: str
    columns: tuple[str, ...]
    conflict: tuple[str, ...] = ()
    add: tuple[str, ...] = ()
    keep: tuple[str, ...] = ()
    replace: tuple[str, ...] = ()
    returning: tuple[str, ...] = ()


@dataclass(frozen=True)
class Counter:
    """How an upsert writes a counter row: its key (`conflict`), the columns summed with the
    stored ones (`add`), those that keep the stored value if any (`keep`) or take the new one if
    given (`replace`), and those returned as written to check them."""

    conflict: tuple[str, ...]
    add: tuple[str, ...]
    returning: tuple[str, ...]
    keep: tuple[str, ...] = ()
    replace: tuple[str, ...] = ()


@dataclass
class _Entry:
    shape: _Shape
    rows: list[dict[str, Any]]
    # What the write returned -> the error that refuses the transaction, or None.
    check: Callable[[Sequence[Sequence[Any]]], Exception | None] | None = None


@dataclass
class Writes:
    """The rows one transaction has queued (`pending(session)`)."""

    entries: list[_Entry] = field(default_factory=list)
    _cipher: Any = None

    def add(self, session: AsyncSession | Session, *instances: object) -> None:
        """New rows, as model instances (not added to the session)."""
        for instance in instances:
            table, row = _row(session, instance)
            shape = _Shape(table, _ADD, tuple(row))
            same = next((e for e in self.entries if e.shape == shape), None)
            if same is None:
                self.entries.append(_Entry(shape, [row]))
            else:
                same.rows.append(row)

    def adopt(self, session: AsyncSession) -> None:
        """Queue the rows the session's next flush would insert (its new instances, added by
        whichever module wrote them), and take them out of that flush."""
        sync = session.sync_session
        new = list(sync.new)
        for instance in new:
            sync.expunge(instance)
        self.add(session, *new)

    def add_new(
        self,
        session: AsyncSession | Session,
        instance: object,
        conflict: tuple[str, ...],
        problem: Exception,
    ) -> None:
        """A row whose key (`conflict`) must be free; `problem` is raised if it is taken."""
        table, row = _row(session, instance)
        shape = _Shape(table, _ADD_NEW, tuple(row), conflict, returning=conflict[:1])
        self.entries.append(
            _Entry(shape, [row], lambda returned: None if len(returned) == 1 else problem)
        )

    def upsert(
        self,
        session: AsyncSession | Session,
        instance: object,
        counter: Counter,
        check: Callable[[Sequence[Any]], Exception | None],
    ) -> None:
        """A counter row: inserted, or its `add` columns summed with the stored ones. `check`
        gets the `returning` columns as written and answers the error that refuses the
        transaction, or None."""
        table, row = _row(session, instance)
        shape = _Shape(
            table,
            _UPSERT,
            tuple(row),
            counter.conflict,
            counter.add,
            counter.keep,
            counter.replace,
            counter.returning,
        )
        self.entries.append(_Entry(shape, [row], lambda returned: check(returned[0])))

    def run(self, session: Session) -> None:
        """Send the queue (ORM changes first, since queued rows may refer to them)."""
        session.flush()
        entries, self.entries = self.entries, []
        if not entries:
            return
        connection = session.connection()
        if connection.dialect.name == "postgresql":
            returned = _send_combined(connection, entries)
        else:
            entries = _parents_first(entries)
            returned = [_send_one(connection, entry) for entry in entries]
        for entry, rows in zip(entries, returned, strict=True):
            problem = entry.check(rows) if entry.check is not None else None
            if problem is not None:
                raise problem


def pending(session: AsyncSession | Session) -> Writes:
    """This transaction's queue."""
    info = session.info
    queued = info.get(PENDING)
    if queued is None:
        queued = info[PENDING] = Writes()
    assert isinstance(queued, Writes)
    return queued


async def flush(session: AsyncSession) -> None:
    """Send what this transaction has queued, now."""
    queued = session.info.get(PENDING)
    if queued is not None and queued.entries:
        await session.run_sync(queued.run)


@event.listens_for(Session, "before_commit")
def _flush_before_commit(session: Session) -> None:
    queued = session.info.get(PENDING)
    if queued is not None and queued.entries:
        queued.run(session)


@event.listens_for(Session, "after_soft_rollback")
def _drop_after_rollback(session: Session, _previous: Any) -> None:
    session.info.pop(PENDING, None)


def _row(session: AsyncSession | Session, instance: object) -> tuple[Table, dict[str, Any]]:
    """The instance's row as the ORM would insert it: values set, else the column's default
    (set on the instance too), sealed values sealed."""
    sealing.seal_all(instance, sealing.cipher_of(session))
    table, columns = _columns_of(type(instance))
    values = instance.__dict__
    row: dict[str, Any] = {}
    for key, name, default in columns:
        if key in values:
            row[name] = values[key]
        elif default is not None:
            value = default()
            setattr(instance, key, value)
            row[name] = value
    return table, row


# (attribute, column, default) of each column of a model, by model.
_Columns = tuple[Table, tuple[tuple[str, str, Callable[[], Any] | None], ...]]
_COLUMNS: dict[type, _Columns] = {}


def _columns_of(model: type) -> _Columns:
    known = _COLUMNS.get(model)
    if known is not None:
        return known
    mapper: Mapper[Any] = class_mapper(model)
    table = mapper.local_table
    assert isinstance(table, Table)
    columns = []
    for prop in mapper.column_attrs:
        col = prop.columns[0]
        default: Any = col.default
        make: Callable[[], Any] | None = None
        if default is not None:
            if default.is_callable:
                make = functools.partial(default.arg, None)
            elif default.is_scalar:
                make = functools.partial(_same, default.arg)
            else:
                raise TypeError(f"{table.name}.{col.name}: only Python defaults can be queued")
        columns.append((prop.key, col.name, make))
    _COLUMNS[model] = (table, tuple(columns))
    return _COLUMNS[model]


def _same(value: Any) -> Any:
    return value


def _parents_first(entries: list[_Entry]) -> list[_Entry]:
    order = {table: n for n, table in enumerate(_sorted_tables(entries[0].shape.table))}
    return sorted(entries, key=lambda entry: order[entry.shape.table])


def _sorted_tables(table: Table) -> list[Table]:
    assert table.metadata is not None
    return list(table.metadata.sorted_tables)


def _send_one(connection: Connection, entry: _Entry) -> Sequence[Any]:
    """One queued write on SQLite."""
    shape = entry.shape
    if shape.kind == _ADD:
        connection.execute(insert(shape.table), entry.rows)
        return []
    statement = sqlite.insert(shape.table).values(entry.rows)
    return _conflict_clause(statement, shape).execute_on(connection)


def _conflict_clause(statement: Any, shape: _Shape) -> _Prepared:
    table = shape.table
    if shape.kind == _ADD_NEW:
        statement = statement.on_conflict_do_nothing(index_elements=list(shape.conflict))
    else:
        excluded = statement.excluded
        updates = {name: table.c[name] + excluded[name] for name in shape.add}
        updates |= {name: func.coalesce(table.c[name], excluded[name]) for name in shape.keep}
        updates |= {name: func.coalesce(excluded[name], table.c[name]) for name in shape.replace}
        statement = statement.on_conflict_do_update(
            index_elements=list(shape.conflict), set_=updates
        )
    return _Prepared(statement.returning(*(table.c[name] for name in shape.returning)))


@dataclass(frozen=True)
class _Prepared:
    statement: Any

    def execute_on(self, connection: Connection, params: Any = None) -> Sequence[Any]:
        return [tuple(row) for row in connection.execute(self.statement, params)]


def _send_combined(connection: Connection, entries: list[_Entry]) -> list[Sequence[Any]]:
    """Every queued write in one PostgreSQL statement; what each one returned."""
    statement = _combined(tuple(entry.shape for entry in entries))
    dialect = connection.dialect
    params = {f"rows_{n}": _json_rows(entry, dialect) for n, entry in enumerate(entries)}
    answers = connection.execute(statement, params).scalar_one()
    returned: list[Sequence[Any]] = []
    answered = iter(answers or [])
    for entry in entries:
        returned.append(next(answered) if entry.shape.returning else [])
    return returned


@functools.lru_cache(maxsize=256)
def _combined(shapes: tuple[_Shape, ...]) -> Any:
    """`WITH w0 AS (INSERT ...), w1 AS (INSERT ... RETURNING ...) SELECT json_build_array(
    (rows w1 returned), ...)`, built once per combination of shapes."""
    ctes = []
    answers = []
    for n, shape in enumerate(shapes):
        cte = _from_json(shape, f"rows_{n}").cte(f"w{n}")
        ctes.append(cte)
        if shape.returning:
            answers.append(
                select(
                    func.coalesce(
                        func.json_agg(func.json_build_array(*cte.c)), func.json_build_array()
                    )
                )
                .select_from(cte)
                .scalar_subquery()
            )
    outcome = func.json_build_array(*answers, type_=JSON) if answers else literal(None, JSON)
    return select(outcome).add_cte(*ctes)


def _from_json(shape: _Shape, param: str) -> Any:
    table = shape.table
    unpacked = (
        func.jsonb_to_recordset(bindparam(param, type_=JSONB))
        .table_valued(*(column(name, table.c[name].type) for name in shape.columns))
        .render_derived(name="given", with_types=True)
    )
    statement = postgresql.insert(table).from_select(
        list(shape.columns), select(*(unpacked.c[name] for name in shape.columns))
    )
    if shape.kind == _ADD:
        return statement
    return _conflict_clause(statement, shape).statement


def _json_rows(entry: _Entry, dialect: Dialect) -> list[dict[str, Any]]:
    converters = _converters(entry.shape, dialect)
    return [
        {
            name: value if value is None or convert is None else convert(value)
            for (name, value), convert in zip(row.items(), converters, strict=True)
        }
        for row in entry.rows
    ]


@functools.lru_cache(maxsize=256)
def _converters(shape: _Shape, dialect: Dialect) -> tuple[Callable[[Any], Any] | None, ...]:
    """How each column's value is given to `jsonb_to_recordset` (None: as it is), worked out
    once per shape from the columns' types."""
    return tuple(json_converter(shape.table.c[name].type, dialect) for name in shape.columns)
