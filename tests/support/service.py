"""The service under test: its settings and keys, an HTTP client on the ASGI app, API key
headers, fresh and emptied databases, and the log handler that captures the whole run."""

from __future__ import annotations

import base64
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import delete, text

from app.core.config import Settings
from app.core.db import Database
from app.core.logging import JsonFormatter
from app.core.models import Base
from tests.support.databases import create_pg_database, drop_pg_database, sqlite_url

TEST_DATA_KEY = base64.urlsafe_b64encode(b"d" * 32).decode()
TEST_LOOKUP_KEY = base64.urlsafe_b64encode(b"l" * 32).decode()
TEST_PAYMENT_SECRET = "test-payment-secret"

KeyFactory = Callable[..., Awaitable[str]]


class SuiteLog(logging.Handler):
    """Every log record of the run, as written (JSON, masked) and as raised (raw message)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.formatter_ = JsonFormatter()
        self.written: list[str] = []
        self.raw: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.written.append(self.formatter_.format(record))
        self.raw.append(record.getMessage())


SUITE_LOG = SuiteLog()


async def fresh_database_url(backend: str, directory: Path, name: str) -> str:
    """A new, empty database of the given backend (PostgreSQL: drop it with drop_database)."""
    if backend == "sqlite":
        return sqlite_url(directory, f"{name}.db")
    return await create_pg_database()


async def drop_database(backend: str, url: str) -> None:
    if backend == "postgresql":
        await drop_pg_database(url)


def make_settings(database_url: str, var_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "DATABASE_URL": database_url,
        "MUTUALAID_VAR_DIR": str(var_dir),
        "DATA_KEY": TEST_DATA_KEY,
        "LOOKUP_KEY": TEST_LOOKUP_KEY,
        "PAYMENT_NOTIFICATION_SECRETS": TEST_PAYMENT_SECRET,
        # Tests fire requests far faster than any client may; tests/clients/test_rate_limit.py
        # turns the limit on.
        "MUTUALAID_RATE_LIMITS_ENABLED": False,
    }
    values.update(overrides)
    return Settings(**values)


BULKY_ROWS = 5_000


async def empty_database(database: Database) -> None:
    """DELETE, child tables first: a test leaves a few rows, and PostgreSQL's TRUNCATE of every
    table costs about ten times as much as deleting them. A table a test filled (a 100,000-row
    batch) is truncated after, so that its dead rows do not slow the tests that follow."""
    bulky: list[str] = []
    async with database.writer() as session:
        for table in reversed(Base.metadata.sorted_tables):
            deleted = await session.execute(delete(table))
            if deleted.rowcount > BULKY_ROWS:
                bulky.append(table.name)
        if bulky and not database.is_sqlite:
            await session.execute(text(f"TRUNCATE {', '.join(bulky)} CASCADE"))
        await session.commit()


def asgi_client(application: Any) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
