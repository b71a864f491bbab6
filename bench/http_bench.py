"""What the HTTP benchmarks share: covered members seeded straight into the database, the
service and the bare baseline started side by side and driven by the same load generator (wrk,
or the Python one when wrk is missing) in alternating rounds."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import uuid
from collections import Counter
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
from bench.load import run_load
from bench.results import Measurement, quantile_samples
from bench.wrk import WrkLoad, run_wrk, wrk_path

CLOCK = "2026-11-23T10:00:00+08:00"
COVER_STARTS = date(2026, 1, 1)
CONNECTIONS = 64
PLATFORM = "bench-delivery"
# As a deployment runs: the JSON access log at INFO (to a file, as to a log collector) and the
# rate limiter on, at a rate the bench's one client never reaches, so both cost what they cost.
DEPLOYED = {
    "MUTUALAID_LOG_LEVEL": "INFO",
    "MUTUALAID_RATE_LIMITS": "platform=1000000,citizen_app=1000000",
}


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


@dataclass(frozen=True)
class Endpoint:
    """What to send to one endpoint: its wrk script, and the same requests for the Python
    fallback (`request(n)` for request number n) with what to count in an answer's body."""

    wrk: WrkLoad
    request: Callable[[int], bytes]
    outcome: Callable[[bytes], str] | None = None


def drive(port: int, endpoint: Endpoint, seconds: float, offset: int) -> tuple[Measurement, int]:
    """One run against `port`: wrk when installed, else the Python generator. Request numbers
    start at `offset`; returns the measurement and the next run's offset."""
    if wrk_path() is not None:
        return run_wrk(port, endpoint.wrk, connections=CONNECTIONS, seconds=seconds, offset=offset)
    result = asyncio.run(
        run_load(
            "127.0.0.1",
            port,
            lambda n: endpoint.request(offset + n),
            connections=CONNECTIONS,
            seconds=seconds,
            keep_bodies=endpoint.outcome is not None,
        )
    )
    count = endpoint.outcome
    measured = Measurement(
        requests=result.requests,
        seconds=result.seconds,
        statuses=result.statuses,
        outcomes=Counter(count(body) for body in result.bodies) if count else Counter(),
        samples=quantile_samples([seconds * 1000 for seconds in result.latencies]),
    )
    return measured, offset + result.requests


def load_generator() -> str:
    return "wrk" if wrk_path() is not None else "the Python load generator (wrk not installed)"


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
    with bare_server(service, workers) as (port, _):
        yield port


@contextlib.contextmanager
def bare_server(service: Service, workers: int) -> Iterator[tuple[int, int]]:
    """`serving_bare`, yielding the port and the process id of uvicorn's parent process."""
    _create_bare_table(service.database_url)
    baseline = Service(service.database_url, var_dir=service.var_dir, extra_env=service.extra_env)
    port = free_port()
    process = baseline.start(
        "-m", "uvicorn", "bench.bare:app", "--port", str(port),
        "--workers", str(workers), "--log-level", "warning", "--no-access-log",
        command=[sys.executable],
    )  # fmt: skip
    try:
        wait_until_serving(f"http://127.0.0.1:{port}/docs")
        yield port, process.pid
    finally:
        baseline.stop()


@dataclass(frozen=True)
class Rounds:
    """Alternating rounds of `seconds` each, after a `warmup` of each server."""

    rounds: int
    seconds: float
    warmup: float


def measure_interleaved(
    service: Service, workers: int, ours: Endpoint, floor: Endpoint, timing: Rounds
) -> tuple[Measurement, Measurement]:
    """Both servers up at once (the idle one costs nothing), measured in alternating rounds, so
    that a shared machine's changing load falls on both alike. Request numbers go on from one
    run to the next: no request is sent twice."""
    with serving(service, workers) as port, serving_bare(service, workers) as bare_port:
        _, our_offset = drive(port, ours, timing.warmup, 0)
        _, floor_offset = drive(bare_port, floor, timing.warmup, 0)
        our_total, floor_total = Measurement(), Measurement()
        for _ in range(timing.rounds):
            measured, our_offset = drive(port, ours, timing.seconds, our_offset)
            our_total.add(measured)
            measured, floor_offset = drive(bare_port, floor, timing.seconds, floor_offset)
            floor_total.add(measured)
        return our_total, floor_total


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
