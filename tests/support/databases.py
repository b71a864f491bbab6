"""Test databases: a migrated SQLite file, and a fresh PostgreSQL database per test session.

PostgreSQL is found at `TEST_DATABASE_URL` (any database on the server; it is used only to
create and drop ours) or at 127.0.0.1:5432. With `CI=true` it is required.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
BACKENDS = ("sqlite", "postgresql")


def pg_server_url() -> str:
    return os.environ.get("TEST_DATABASE_URL") or DEFAULT_PG_URL


def ci_requires_postgres() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _pg_reachable(url: str) -> str | None:
    """None when reachable, else why not."""
    try:
        conn = await asyncpg.connect(_asyncpg_dsn(url), timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        return f"{type(exc).__name__}: {exc}"
    await conn.close()
    return None


def postgres_unavailable_reason() -> str | None:
    return asyncio.run(_pg_reachable(pg_server_url()))


async def create_pg_database(prefix: str = "mutualaid_test") -> str:
    server = pg_server_url()
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(_asyncpg_dsn(server), timeout=10)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return make_url(server).set(database=name).render_as_string(hide_password=False)


async def drop_pg_database(url: str) -> None:
    name = make_url(url).database
    conn = await asyncpg.connect(_asyncpg_dsn(pg_server_url()), timeout=10)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def sqlite_url(directory: Path, name: str = "test.db") -> str:
    return f"sqlite:///{directory / name}"
