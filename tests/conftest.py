"""Fixtures: every database test runs on SQLite and on PostgreSQL.

Tests that take `client`, `app`, `db` or `database_url` are parametrised over both backends; the
terminal summary counts how many ran on each. API tests go through httpx against the ASGI app.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import sys
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import delete, text

from app.clients.service import create_client
from app.core.config import Settings
from app.core.db import Database
from app.core.logging import JsonFormatter, quiet_outbound_url_logs
from app.core.migrate import upgrade
from app.core.models import Base
from app.core.policy import Role
from app.main import create_app
from app.tables import import_all_models
from tests.databases import (
    BACKENDS,
    ci_requires_postgres,
    create_pg_database,
    drop_pg_database,
    postgres_unavailable_reason,
    sqlite_url,
)

import_all_models()
# CI runs are reproducible; local runs explore new examples each time.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if ci_requires_postgres():
    hypothesis_settings.load_profile("ci")
TEST_DATA_KEY = base64.urlsafe_b64encode(b"d" * 32).decode()
TEST_LOOKUP_KEY = base64.urlsafe_b64encode(b"l" * 32).decode()
TEST_PAYMENT_SECRET = "test-payment-secret"

_pg_unavailable: str | None = None
_ran: Counter[tuple[str, str]] = Counter()


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


def pytest_sessionstart(session: pytest.Session) -> None:
    logging.getLogger().addHandler(SUITE_LOG)
    logging.getLogger().setLevel(logging.INFO)
    quiet_outbound_url_logs()
    global _pg_unavailable
    _pg_unavailable = postgres_unavailable_reason()
    if _pg_unavailable and ci_requires_postgres():
        pytest.exit(
            f"PostgreSQL is required when CI=true and is not reachable: {_pg_unavailable}",
            returncode=3,
        )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked `last` read what the whole run did (its logs): run them at the end."""
    items.sort(key=lambda item: item.get_closest_marker("last") is not None)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        only = metafunc.definition.get_closest_marker("only_backend")
        wanted = only.args if only else BACKENDS
        params = [
            pytest.param(name, marks=pytest.mark.postgresql) if name == "postgresql" else name
            for name in BACKENDS
            if name in wanted
        ]
        metafunc.parametrize("backend", params, scope="session", indirect=True)


@pytest.fixture(scope="session")
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    if name == "postgresql" and _pg_unavailable:
        pytest.skip(f"PostgreSQL not reachable ({_pg_unavailable})")
    return name


@pytest.fixture(scope="session")
def test_var_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("var")


async def fresh_database_url(backend: str, directory: Path, name: str) -> str:
    """A new, empty database of the given backend (PostgreSQL: drop it with drop_database)."""
    if backend == "sqlite":
        return sqlite_url(directory, f"{name}.db")
    return await create_pg_database()


async def drop_database(backend: str, url: str) -> None:
    if backend == "postgresql":
        await drop_pg_database(url)


@pytest.fixture(scope="session")
async def database_url(backend: str, test_var_dir: Path) -> AsyncIterator[str]:
    """One migrated database per backend for the whole test session."""
    url = await fresh_database_url(backend, test_var_dir, "suite")
    await asyncio.to_thread(upgrade, url)
    yield url
    await drop_database(backend, url)


def make_settings(database_url: str, var_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "DATABASE_URL": database_url,
        "MUTUALAID_VAR_DIR": str(var_dir),
        "DATA_KEY": TEST_DATA_KEY,
        "LOOKUP_KEY": TEST_LOOKUP_KEY,
        "PAYMENT_NOTIFICATION_SECRETS": TEST_PAYMENT_SECRET,
        # Tests fire requests far faster than any client may; tests/clients/test_rate_limit.py
        # turns the limit on.
        "MUTUALAID_RATE_LIMIT_PER_SECOND": 0,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="session")
def settings(database_url: str, test_var_dir: Path) -> Settings:
    return make_settings(database_url, test_var_dir)


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[Any]:
    application = create_app(settings)
    yield application
    await application.state.runtime.close()


@pytest.fixture
def runtime(app: Any, db: Database) -> Any:
    """The app's runtime (database emptied after the test), for services and job handlers."""
    return app.state.runtime


@pytest.fixture
async def db(app: Any) -> AsyncIterator[Database]:
    """The app's database, emptied after each test."""
    database: Database = app.state.runtime.db
    yield database
    await empty_database(database)


async def empty_database(database: Database) -> None:
    async with database.writer() as session:
        if database.is_sqlite:
            for table in reversed(Base.metadata.sorted_tables):
                await session.execute(delete(table))
        else:
            names = ", ".join(t.name for t in Base.metadata.sorted_tables)
            await session.execute(text(f"TRUNCATE {names} CASCADE"))
        await session.commit()


def asgi_client(application: Any) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
async def client(app: Any, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(app) as http:
        yield http


@pytest.fixture(scope="session")
async def probe_app(settings: Settings) -> AsyncIterator[Any]:
    """The real app plus test-only routes that exercise the shared mechanisms (tests/probes.py)."""
    from tests.probes import build_probe_app

    application = build_probe_app(settings)
    yield application
    await application.state.runtime.close()


@pytest.fixture
async def probe_client(probe_app: Any, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(probe_app) as http:
        yield http


KeyFactory = Callable[..., Awaitable[str]]


@pytest.fixture
def api_key(db: Database) -> KeyFactory:
    """`await api_key(Role.UNION, "SH-PUDONG")` -> a fresh key for a new client."""

    async def make(role: Role, org_code: str | None = None, name: str | None = None) -> str:
        async with db.writer() as session:
            issued = await create_client(
                session, role=role, name=name or f"test-{role.value}", org_code=org_code
            )
            await session.commit()
        return issued.api_key

    return make


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture(autouse=True)
def _no_ambient_configuration(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Tests build their settings explicitly; the developer's environment must not leak in."""
    for name in ("MUTUALAID_CLOCK", "MUTUALAID_ENV"):
        monkeypatch.delenv(name, raising=False)
    return


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    callspec = getattr(item, "callspec", None)
    backend = callspec.params.get("backend") if callspec else None
    counted = report.when == "call" or (report.when == "setup" and report.outcome != "passed")
    if backend and counted:
        _ran[(backend, report.outcome)] += 1
    return report


def pytest_terminal_summary(terminalreporter: Any) -> None:
    fuzzing = sys.modules.get("tests.contract.test_fuzzing")
    if fuzzing is not None and fuzzing.RAN:
        terminalreporter.write_sep("=", "contract fuzzing (schemathesis)")
        terminalreporter.write_line(
            f"{len(fuzzing.RAN)} operations, {sum(fuzzing.RAN.values())} cases "
            f"(both databases together)"
        )
    if not _ran:
        return
    parts = []
    for backend in BACKENDS:
        counts = {outcome: n for (b, outcome), n in sorted(_ran.items()) if b == backend}
        shown = ", ".join(f"{n} {outcome}" for outcome, n in counts.items()) or "none"
        parts.append(f"{backend}: {shown}")
    terminalreporter.write_sep("=", "database tests by backend")
    terminalreporter.write_line("; ".join(parts))


os.environ.setdefault("MUTUALAID_LOG_LEVEL", "WARNING")
