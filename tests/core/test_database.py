"""Engine behaviour that correctness relies on."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text

from app.clients.models import ApiClient
from app.core.db import WORKER_CONNECTIONS, Database, sqlite_path
from app.core.policy import Role


@pytest.mark.only_backend("sqlite")
async def test_sqlite_runs_in_wal_with_foreign_keys(db, backend):
    async with db.writer() as session:
        assert (await session.scalar(text("PRAGMA journal_mode"))) == "wal"
        assert (await session.scalar(text("PRAGMA foreign_keys"))) == 1


@pytest.mark.only_backend("sqlite")
async def test_sqlite_write_transactions_take_the_write_lock_at_begin(db, backend, settings):
    path = sqlite_path(settings.database_url)
    async with db.writer() as session:
        await session.execute(text("SELECT 1"))  # BEGIN IMMEDIATE happened here
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            # Readers are not blocked by a writer in WAL mode.
            assert other.execute("SELECT count(*) FROM api_clients").fetchone() == (0,)
        finally:
            other.close()
        await session.rollback()


@pytest.mark.only_backend("sqlite")
async def test_read_sessions_do_not_block_writers(db, backend, settings):
    path = sqlite_path(settings.database_url)
    async with db.reader() as session:
        await session.execute(text("SELECT 1"))
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
        finally:
            other.close()


async def test_timestamps_come_back_timezone_aware(db):
    async with db.writer() as session:
        session.add(ApiClient(name="tz", role="examiner", key_prefix="p", key_hash="h" * 64))
        await session.commit()
    async with db.reader() as session:
        created = await session.scalar(select(ApiClient.created_at))

    assert created.tzinfo is not None
    assert abs((datetime.now(UTC) - created).total_seconds()) < 60


async def test_naive_timestamps_are_refused(db):
    async with db.writer() as session:
        session.add(
            ApiClient(
                name="naive",
                role="examiner",
                key_prefix="p",
                key_hash="n" * 64,
                created_at=datetime(2026, 1, 1),  # noqa: DTZ001
            )
        )
        with pytest.raises(Exception, match="naive"):
            await session.commit()


async def test_the_binding_of_roles_is_enforced_by_the_schema(db):
    async with db.writer() as session:
        session.add(ApiClient(name="x", role="union", key_prefix="p", key_hash="b" * 64))
        with pytest.raises(Exception, match=r"(?i)check|constraint"):
            await session.commit()


@pytest.mark.only_backend("sqlite")
async def test_a_locked_database_is_a_503_to_retry(settings, api_key, db, tmp_path):
    from app.core.db import sqlite_path
    from tests.support.probes import build_probe_app
    from tests.support.service import asgi_client, bearer, make_settings

    impatient = make_settings(settings.database_url, tmp_path, MUTUALAID_SQLITE_BUSY_TIMEOUT_MS=200)
    app = build_probe_app(impatient)
    key = await api_key(Role.CITIZEN_APP)
    blocker = sqlite3.connect(sqlite_path(settings.database_url), isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")
        async with asgi_client(app) as http:
            response = await http.post(
                "/v1/probes/things",
                json={"name": "blocked"},
                headers=bearer(key) | {"Idempotency-Key": "k-locked"},
            )
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
        await app.state.runtime.db.dispose()

    assert response.status_code == 503
    assert response.json()["code"] == "database_busy"
    assert response.headers["retry-after"] == "1"


async def test_rollback_hooks_run_even_when_the_rollback_fails(db, monkeypatch):
    from app.core.db import on_rollback, unit_of_work

    ran = []

    async def hook() -> None:
        ran.append("released")

    async def broken_rollback() -> None:
        raise ConnectionError("connection lost")

    with pytest.raises(ConnectionError):  # noqa: PT012 - the failure happens inside the block
        async with unit_of_work(db.writer) as session:
            on_rollback(session, hook)
            monkeypatch.setattr(session, "rollback", broken_rollback)
            raise ValueError("endpoint failed")

    assert ran == ["released"]


@pytest.mark.only_backend("postgresql")
@pytest.mark.parametrize("idle_ping_seconds", [0.0, 3600.0])
async def test_a_pooled_connection_killed_while_idle_is_replaced_before_use(
    settings, monkeypatch, idle_ping_seconds
):
    from app.core import db as db_module

    monkeypatch.setattr(db_module, "IDLE_PING_SECONDS", idle_ping_seconds)
    database = db_module.Database.from_settings(settings)
    try:
        async with database.read_engine.connect() as connection:
            first = await connection.scalar(text("SELECT pg_backend_pid()"))
        admin = db_module.Database.from_settings(settings)  # not from the pool under test
        try:
            async with admin.engine.connect() as connection:
                await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
                for _ in range(200):  # the backend exits a moment after the signal
                    gone = await connection.scalar(
                        text("SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = :pid"),
                        {"pid": first},
                    )
                    if gone:
                        break
                    await asyncio.sleep(0.01)
        finally:
            await admin.dispose()

        async def next_pid() -> int:
            async with database.read_engine.connect() as connection:
                return await connection.scalar(text("SELECT pg_backend_pid()"))

        if idle_ping_seconds == 0.0:
            assert await next_pid() not in (first, None)  # pinged, found dead, replaced
        else:
            with pytest.raises(Exception, match=r"terminat|closed|connection"):
                await next_pid()  # within the idle window nothing checks it first
    finally:
        await database.dispose()


@pytest.mark.only_backend("postgresql")
async def test_connections_say_which_kind_of_process_holds_them(app, settings):
    """pg_stat_activity tells the API's transactions from a job worker's."""
    async with app.state.runtime.db.writer() as session:
        api = await session.scalar(text("SELECT current_setting('application_name')"))
    worker_db = Database.from_settings(settings, WORKER_CONNECTIONS)
    try:
        async with worker_db.writer() as session:
            worker = await session.scalar(text("SELECT current_setting('application_name')"))
    finally:
        await worker_db.dispose()

    assert (api, worker) == ("mutualaid-api", "mutualaid-worker")
