"""Fixtures: every database test runs on SQLite and on PostgreSQL.

Tests that take `client`, `app`, `db` or `database_url` are parametrised over both backends; the
terminal summary counts how many ran on each. API tests go through httpx against the ASGI app.

The fixtures several folders share are here too (`http`, keys, covered members, the platform
simulator); a folder's conftest.py gives them the `app` its tests run on. Helpers are in
tests/support.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import settings as hypothesis_settings

from app.clients.service import create_client
from app.core.config import Settings
from app.core.db import Database
from app.core.logging import quiet_outbound_url_logs
from app.core.migrate import upgrade
from app.core.policy import Role
from app.main import create_app
from app.tables import import_all_models
from tests.support.claims import covered_members, seed
from tests.support.databases import BACKENDS, ci_requires_postgres, postgres_unavailable_reason
from tests.support.enrolment import clients_at, slow_platform
from tests.support.log_privacy import violations
from tests.support.probes import build_probe_app
from tests.support.service import (
    SUITE_LOG,
    KeyFactory,
    asgi_client,
    bearer,
    drop_database,
    empty_database,
    fresh_database_url,
    make_settings,
)

import_all_models()
# CI runs are reproducible; local runs explore new examples each time.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if ci_requires_postgres():
    hypothesis_settings.load_profile("ci")

_pg_unavailable: str | None = None
_ran: Counter[tuple[str, str]] = Counter()
_fuzzed: Counter[str] = Counter()


_LOGS_DIR = "MUTUALAID_TEST_WORKER_LOGS"  # where pytest-xdist workers leave their logs


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput") and getattr(config.option, "numprocesses", None):
        # Set before the workers start, so that they inherit it.
        os.environ[_LOGS_DIR] = tempfile.mkdtemp(prefix="mutualaid-worker-logs-")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """With pytest-xdist: each worker leaves its logs, and the controller checks them all."""
    directory = os.environ.get(_LOGS_DIR)
    if not directory:
        return
    workerinput = getattr(session.config, "workerinput", None)
    if workerinput is not None:
        logs = {"written": SUITE_LOG.written, "raw": SUITE_LOG.raw}
        (Path(directory) / f"{workerinput['workerid']}.json").write_text(json.dumps(logs))
        return
    written: list[str] = []
    raw: list[str] = []
    for path in Path(directory).glob("*.json"):
        logs = json.loads(path.read_text())
        written += logs["written"]
        raw += logs["raw"]
    shutil.rmtree(directory, ignore_errors=True)
    found = violations(written, raw)
    if found:
        writer = session.config.get_terminal_writer()
        writer.line()
        writer.line(f"every worker's logs together: {'; '.join(found)}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


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


@pytest.fixture(scope="session")
async def database_url(backend: str, test_var_dir: Path) -> AsyncIterator[str]:
    """One migrated database per backend for the whole test session."""
    url = await fresh_database_url(backend, test_var_dir, "suite")
    await asyncio.to_thread(upgrade, url)
    yield url
    await drop_database(backend, url)


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


@pytest.fixture
async def client(app: Any, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(app) as http:
        yield http


@pytest.fixture(scope="session")
async def probe_app(settings: Settings) -> AsyncIterator[Any]:
    """The real app plus test-only routes that exercise the shared mechanisms
    (tests/support/probes.py)."""
    application = build_probe_app(settings)
    yield application
    await application.state.runtime.close()


@pytest.fixture
async def probe_client(probe_app: Any, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(probe_app) as http:
        yield http


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


@pytest.fixture
async def http(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the `app` of the test's folder (its conftest.py)."""
    async with asgi_client(app) as client:
        yield client


@pytest.fixture
async def citizen(api_key: KeyFactory) -> dict[str, str]:
    return bearer(await api_key(Role.CITIZEN_APP, None, "suishenban"))


@pytest.fixture
async def examiner(api_key: KeyFactory) -> dict[str, str]:
    return bearer(await api_key(Role.EXAMINER, None, "examiner"))


@pytest.fixture
async def delivery(api_key: KeyFactory) -> dict[str, str]:
    """A key of the platform `demo-delivery`."""
    return bearer(await api_key(Role.PLATFORM, "demo-delivery", "demo-delivery-api"))


@pytest.fixture
async def seeder(db: Database, runtime: Any) -> Any:
    """The client (and the platform `demo-delivery`) that seeded members' records point at."""
    return await seed(db, runtime)


@pytest.fixture
def covered(db: Database, runtime: Any, seeder: Any) -> Any:
    """`await covered(n, starts_on=..., union=...)` -> the ids of new members, covered from
    1 January 2026 (unless told otherwise), written straight to the tables."""
    return covered_members(db, runtime, seeder)


@pytest.fixture(scope="module")
async def slow_platform_url() -> AsyncIterator[str]:
    """The platform simulator over real HTTP, with the enrolment tests' workers; its URL."""
    async with slow_platform() as url:
        yield url


@pytest.fixture
def client_at(settings: Settings, test_var_dir: Path, db: Database, slow_platform_url: str) -> Any:
    """`async with client_at(moment) as http:` the enrolment app on the same database with the
    service's clock at `moment`, and rider-gansu's last platform order an hour before it."""
    return clients_at(settings, test_var_dir, db, slow_platform_url)


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
    if backend:
        # On the report, which pytest-xdist carries from its workers to the summary below.
        report.user_properties.append(("backend", backend))
    return report


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    properties = report.user_properties
    backend = next((value for name, value in properties if name == "backend"), None)
    counted = report.when == "call" or (report.when == "setup" and report.outcome != "passed")
    if backend and counted:
        _ran[(backend, report.outcome)] += 1
    if report.when == "call":
        _fuzzed.update(value for name, value in properties if name == "fuzzed")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _fuzzed:
        terminalreporter.write_sep("=", "contract fuzzing (schemathesis)")
        terminalreporter.write_line(
            f"{len(_fuzzed)} operations, {sum(_fuzzed.values())} cases (both databases together)"
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
