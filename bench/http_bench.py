"""What the HTTP benchmarks share: covered members seeded straight into the database, the
service and the bare baseline started and measured with the same load generator, and the
report lines."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date

import asyncpg
from sqlalchemy.engine import make_url

from app.core.config import Settings, with_development_secrets
from app.core.runtime import Runtime
from app.demo.cover import CoveredMember, Seed, add_covered_members
from app.plans import DEFAULT_PLAN_CODE, in_force
from app.tables import import_all_models
from bench import bare
from bench.harness import Service, free_port, wait_until_serving
from bench.load import LoadResult, run_load

CLOCK = "2026-11-23T10:00:00+08:00"
COVER_STARTS = date(2026, 1, 1)
CONNECTIONS = 64
PLATFORM = "bench-delivery"


def prepare(service: Service, role: str, org: str | None = None) -> dict[str, str]:
    """Migrate, register the bench platform, and create a client; its id and key."""
    service.run("migrate")
    service.run(
        "platforms", "add", "--code", PLATFORM, "--name", "bench",
        "--verify-url", "http://127.0.0.1:9/verify", "--work-types", "food_delivery",
    )  # fmt: skip
    args = ["clients", "create", "--role", role, "--name", "bench", "--json"]
    return dict(json.loads(service.run(*args, *(["--org", org] if org else []))))


async def seed(service: Service, client_id: str, members: int) -> list[CoveredMember]:
    """Covered members working for the bench platform (`seed-<n>`), a thousand per commit."""
    # The same development keys as the service processes (var/dev-secrets.json).
    settings = with_development_secrets(
        Settings(DATABASE_URL=service.database_url, MUTUALAID_VAR_DIR=str(service.var_dir))
    )
    import_all_models()  # every mapper known before the first session, as in the service
    runtime = Runtime.from_settings(settings)
    plan = in_force(DEFAULT_PLAN_CODE, date(2026, 1, 1))
    assert plan is not None
    seeded: list[CoveredMember] = []
    try:
        for start in range(0, members, 1000):
            async with runtime.db.writer() as session:
                seeded += await add_covered_members(
                    session,
                    runtime.cipher,
                    Seed(plan, COVER_STARTS, uuid.UUID(client_id), PLATFORM),
                    range(start, min(members, start + 1000)),
                )
                await session.commit()
    finally:
        await runtime.close()
    return seeded


def measure(
    port: int, request: Callable[[int], bytes], seconds: float, *, keep_bodies: bool = False
) -> LoadResult:
    return asyncio.run(
        run_load(
            "127.0.0.1",
            port,
            request,
            connections=CONNECTIONS,
            seconds=seconds,
            keep_bodies=keep_bodies,
        )
    )


@contextlib.contextmanager
def serving(service: Service, workers: int) -> Iterator[int]:
    """`mutualaid serve` with `workers` processes; yields its port."""
    port = free_port()
    service.start("serve", "--port", str(port), "--workers", str(workers))
    try:
        wait_until_serving(f"http://127.0.0.1:{port}/healthz")
        yield port
    finally:
        service.stop()


@contextlib.contextmanager
def serving_bare(service: Service, workers: int) -> Iterator[int]:
    """The bare baseline app (`bench.bare`) on the same database, started alike."""
    _create_bare_table(service.database_url)
    baseline = Service(service.database_url, var_dir=service.var_dir)
    port = free_port()
    baseline.start(
        "-m", "uvicorn", "bench.bare:app", "--port", str(port),
        "--workers", str(workers), "--log-level", "warning", "--no-access-log",
        command=[sys.executable],
    )  # fmt: skip
    try:
        wait_until_serving(f"http://127.0.0.1:{port}/docs")
        yield port
    finally:
        baseline.stop()


Requests = Callable[[str], Callable[[int], bytes]]


def measure_service(
    service: Service, workers: int, request: Requests, seconds: float, warmup: float
) -> LoadResult:
    """The service warmed up, then measured with bodies kept. `request(run)` builds the
    requests of one run ("warm" or "run")."""
    with serving(service, workers) as port:
        measure(port, request("warm"), warmup)
        return measure(port, request("run"), seconds, keep_bodies=True)


def measure_bare(
    service: Service, workers: int, request: Requests, seconds: float, warmup: float
) -> LoadResult:
    with serving_bare(service, workers) as port:
        measure(port, request("warm"), warmup)
        return measure(port, request("run"), seconds)


@dataclass(frozen=True)
class Rounds:
    """Alternating rounds of `seconds` each, after a `warmup` of each server."""

    rounds: int
    seconds: float
    warmup: float


def measure_interleaved(
    service: Service,
    workers: int,
    requests: Requests,
    bare_requests: Requests,
    timing: Rounds,
) -> tuple[LoadResult, LoadResult]:
    """Both servers up at once (the idle one costs nothing), measured in alternating rounds, so
    that a shared machine's changing load falls on both alike."""
    with serving(service, workers) as port, serving_bare(service, workers) as bare_port:
        measure(port, requests("warm"), timing.warmup)
        measure(bare_port, bare_requests("warm"), timing.warmup)
        ours, theirs = LoadResult(), LoadResult()
        for n in range(timing.rounds):
            _add(ours, measure(port, requests(f"run{n}"), timing.seconds, keep_bodies=True))
            _add(theirs, measure(bare_port, bare_requests(f"run{n}"), timing.seconds))
        return ours, theirs


def _add(total: LoadResult, part: LoadResult) -> None:
    total.requests += part.requests
    total.seconds += part.seconds
    total.statuses.update(part.statuses)
    total.latencies += part.latencies
    total.bodies += part.bodies


def _create_bare_table(database_url: str) -> None:
    url = make_url(database_url)

    async def run() -> None:
        conn = await asyncpg.connect(
            host=url.host, port=url.port or 5432, user=url.username, database=url.database
        )
        try:
            await conn.execute(bare.CREATE_TABLE)
        finally:
            await conn.close()

    asyncio.run(run())


def report(name: str, result: LoadResult) -> str:
    return (
        f"| {name} | {result.requests} | {result.per_second:,.0f} | "
        f"{result.percentile_ms(0.5):.1f} | {result.percentile_ms(0.99):.1f} | "
        f"{dict(result.statuses)} |"
    )


TABLE_HEAD = (
    "| endpoint | requests | per second | p50 ms | p99 ms | statuses |\n|---|---|---|---|---|---|"
)
