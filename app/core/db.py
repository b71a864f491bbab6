"""Database engines and the request-scoped unit of work.

One request is one transaction: the session dependency commits when the endpoint returns and rolls
back when it raises; services only `flush()`. The dependency exits before the response is sent
(`scope="function"`), so a commit that fails becomes an error response, never a 201 for data that
was not stored.

SQLite: WAL, foreign keys on, and write transactions begin IMMEDIATE so that two writers never
deadlock on a lock upgrade; read-only requests use DEFERRED transactions and run beside a writer.
PostgreSQL: asyncpg, READ COMMITTED, pooled connections.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import anyio
from fastapi import Depends, Request
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.core.config import Settings
from app.core.direct_reads import DirectReads

logger = logging.getLogger(__name__)

READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# How each kind of process's connections show in pg_stat_activity (`application_name`), so an
# operator tells a long transaction of the API from a job worker's.
API_CONNECTIONS = "mutualaid-api"
WORKER_CONNECTIONS = "mutualaid-worker"
CLI_CONNECTIONS = "mutualaid-cli"
_SQLITE_BEGIN_OPTION = "sqlite_begin"
_IDLE_SINCE = "idle_since"
IDLE_PING_SECONDS = 2.0
ROLLBACK_HOOKS = "rollback_hooks"


def async_database_url(url: str) -> str:
    """Accept plain `sqlite:///` and `postgresql://` URLs and pick the async driver for them."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return str(parsed.set(drivername="sqlite+aiosqlite"))
    if backend in {"postgresql", "postgres"}:
        return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    raise ValueError(f"unsupported database backend {backend!r}: use sqlite or postgresql")


def sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    if parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def create_engine(settings: Settings, application_name: str = CLI_CONNECTIONS) -> AsyncEngine:
    url = async_database_url(settings.database_url)
    if settings.is_sqlite:
        path = sqlite_path(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, hide_parameters=True)
        _configure_sqlite(engine, settings.sqlite_busy_timeout_ms)
        return engine
    engine = create_async_engine(
        url,
        hide_parameters=True,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        connect_args={"server_settings": {"application_name": application_name}},
    )
    _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: AsyncEngine) -> None:
    """Check a pooled connection before use only if it sat idle for a while.

    `pool_pre_ping` pings on every checkout: a round trip that cost the hottest read path
    almost a fifth of its time. A connection in constant use was alive moments ago; one idle
    since before a database restart or a network cut is what a ping is for. A connection that
    fails its ping is replaced (DisconnectionError makes the pool open a fresh one).
    """

    @event.listens_for(engine.sync_engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.pop(_IDLE_SINCE, None)
        if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError("a pooled connection failed its ping") from exc


def _configure_sqlite(engine: AsyncEngine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module; "begin" below issues BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get(_SQLITE_BEGIN_OPTION, "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")


@dataclass
class Database:
    """The engine and session factories of one database, held on `app.state.runtime.db`."""

    engine: AsyncEngine
    is_sqlite: bool
    # PostgreSQL: the hottest one-statement reads, straight on asyncpg (`direct_reads`).
    direct: DirectReads | None = None
    writer: async_sessionmaker[AsyncSession] = field(init=False)
    reader: async_sessionmaker[AsyncSession] = field(init=False)
    read_engine: AsyncEngine = field(init=False)

    def __post_init__(self) -> None:
        self.writer = async_sessionmaker(self.engine, expire_on_commit=False)
        self.read_engine = (
            self.engine.execution_options(**{_SQLITE_BEGIN_OPTION: "DEFERRED"})
            if self.is_sqlite
            else self.engine
        )
        self.reader = async_sessionmaker(self.read_engine, expire_on_commit=False)

    @classmethod
    def from_settings(cls, settings: Settings, application_name: str = CLI_CONNECTIONS) -> Database:
        direct = (
            None
            if settings.is_sqlite
            else DirectReads(settings.database_url, settings.db_pool_size)
        )
        return cls(create_engine(settings, application_name), settings.is_sqlite, direct)

    async def dispose(self) -> None:
        if self.direct is not None:
            await self.direct.close()
        await self.engine.dispose()


def on_rollback(session: AsyncSession, hook: Callable[[], Awaitable[None]]) -> None:
    """Run `hook` after this request's transaction is rolled back (e.g. release a held key)."""
    session.info.setdefault(ROLLBACK_HOOKS, []).append(hook)


async def _run_rollback_hooks(session: AsyncSession) -> None:
    for hook in session.info.pop(ROLLBACK_HOOKS, []):
        try:
            await hook()
        except Exception:
            logger.exception("rollback hook failed")


@asynccontextmanager
async def unit_of_work(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """Commit on success; on any failure roll back, then run the session's rollback hooks."""
    async with factory() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            try:
                await session.rollback()
            finally:
                # Even if the rollback itself fails or the request is cancelled: a claimed
                # idempotency key left behind would refuse the client's retry.
                with anyio.CancelScope(shield=True):
                    await _run_rollback_hooks(session)
            raise
        session.info.pop(ROLLBACK_HOOKS, None)


async def request_session(request: Request) -> AsyncIterator[AsyncSession]:
    db: Database = request.app.state.runtime.db
    factory = db.reader if request.method in READ_ONLY_METHODS else db.writer
    async with unit_of_work(factory) as session:
        yield session


async def read_session(request: Request) -> AsyncIterator[AsyncSession]:
    """For POSTs that only read (quotes, look-ups): on SQLite they must not take the write lock."""
    db: Database = request.app.state.runtime.db
    async with unit_of_work(db.reader) as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(request_session, scope="function")]
ReadSessionDep = Annotated[AsyncSession, Depends(read_session, scope="function")]


async def get_database(request: Request) -> Database:
    db: Database = request.app.state.runtime.db
    return db


DatabaseDep = Annotated[Database, Depends(get_database)]
