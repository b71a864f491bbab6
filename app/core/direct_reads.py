"""The hottest reads on PostgreSQL, straight on asyncpg.

A platform may ask about a worker before every order it dispatches: that look-up is one
SELECT, and everything SQLAlchemy's asyncio layer does around it (a pool checkout with its
events, a greenlet per call, a transaction begun and rolled back, result processing) cost
about as much CPU again as the statement itself. So these reads take a connection from a small
asyncpg pool of their own and run the statement as asyncpg prepares and caches it, outside any
transaction: one round trip, and one statement sees one snapshot anyway.

The statement is still written once with SQLAlchemy Core and compiled here for asyncpg, so
it is the same SELECT the SQLite path runs. The pool drops a connection whose backend went
away while it sat idle (the server says so before it goes) and opens another; a database that
cannot be reached raises SQLAlchemy's `OperationalError`, which the problem handlers answer
with a 503 like any other.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement

APPLICATION_NAME = "mutualaid-lookups"  # how these connections show in pg_stat_activity
_DIALECT = asyncpg_dialect.dialect()  # type: ignore[no-untyped-call]
# What a dead or unreachable server looks like to asyncpg: not the statement's fault.
_CONNECTION_FAILURES = (
    OSError,  # refused, reset, unreachable
    asyncio.TimeoutError,
    asyncpg.InterfaceError,  # the connection closed under us
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.AdminShutdownError,
)


@dataclass(frozen=True)
class DirectStatement:
    """A Core statement compiled once for asyncpg: its SQL and its parameters' order."""

    sql: str
    names: tuple[str, ...]

    @classmethod
    def of(cls, statement: ClauseElement) -> DirectStatement:
        compiled = statement.compile(dialect=_DIALECT)
        assert isinstance(compiled, SQLCompiler)
        return cls(str(compiled), tuple(compiled.positiontup or ()))

    def arguments(self, params: Mapping[str, Any]) -> list[Any]:
        return [params[name] for name in self.names]


async def _nothing_to_reset(_connection: asyncpg.Connection) -> None:
    """asyncpg resets a connection returned to its pool with a statement of its own (RESET
    ALL, UNLISTEN, CLOSE ALL, advisory locks): a second round trip for every read. Single
    SELECTs outside a transaction leave nothing to reset; an open transaction would still be
    rolled back by the pool before this is called."""


class DirectReads:
    """An asyncpg pool of at most `max_size` connections, opened at the first read."""

    def __init__(self, database_url: str, max_size: int) -> None:
        self._dsn = make_url(database_url).set(drivername="postgresql")
        self._max_size = max_size
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()

    async def fetch(
        self, statement: DirectStatement, params: Mapping[str, Any]
    ) -> Sequence[asyncpg.Record]:
        try:
            pool = self._pool or await self._open()
            rows: Sequence[asyncpg.Record] = await pool.fetch(
                statement.sql, *statement.arguments(params)
            )
        except _CONNECTION_FAILURES as exc:
            raise OperationalError(statement.sql, None, exc) from exc
        return rows

    async def _open(self) -> asyncpg.Pool:
        async with self._opening:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(
                    self._dsn.render_as_string(hide_password=False),
                    min_size=1,
                    max_size=self._max_size,
                    server_settings={"application_name": APPLICATION_NAME},
                    reset=_nothing_to_reset,
                )
            return self._pool

    async def close(self) -> None:
        async with self._opening:
            if self._pool is not None:
                await self._pool.close()
                self._pool = None
