"""Claims: condolence claims with every document, decided by the engine, through the HTTP API on
PostgreSQL with 64 concurrent clients; beside it, a bare FastAPI endpoint doing one INSERT with
the same driver, measured in the same run with the same load generator.

    make bench            # or: python -m bench.claims [--seconds S] [--workers N]

Every claim is a new accident of one of the seeded members (at most ten per member, so all are
approved): each request authenticates, claims its idempotency key, locks the member, reads
cover and usage, adjudicates, and writes the claim, its documents, decision, payout, counters
and audit event in one transaction.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import uuid
from collections import Counter
from datetime import date, timedelta

import asyncpg
from sqlalchemy.engine import make_url

from app.core.config import Settings, with_development_secrets
from app.core.runtime import Runtime
from app.demo_cover import add_covered_members
from app.plans import DEFAULT_PLAN_CODE, get_plan
from bench import bare
from bench.harness import Service, free_port, fresh_database, wait_until_serving
from bench.load import LoadResult, post, run_load

CLOCK = "2026-11-23T10:00:00+08:00"
COVER_STARTS = date(2026, 1, 1)
CONNECTIONS = 64
TARGET_PER_SECOND = 500.0
TARGET_P99_MS = 200.0
DOCUMENTS = [
    {"type": kind, "ref": f"doc-{kind}", "sha256": hashlib.sha256(kind.encode()).hexdigest()}
    for kind in ("id_proof", "accident_proof", "medical_record")
]


async def seed(service: Service, client_id: str, members: int) -> list[str]:
    # The same development keys as the service processes (var/dev-secrets.json).
    settings = with_development_secrets(
        Settings(DATABASE_URL=service.database_url, MUTUALAID_VAR_DIR=str(service.var_dir))
    )
    runtime = Runtime.from_settings(settings)
    plan = get_plan(DEFAULT_PLAN_CODE)
    assert plan is not None
    ids: list[str] = []
    try:
        for start in range(0, members, 1000):
            async with runtime.db.writer() as session:
                covered = await add_covered_members(
                    session,
                    runtime.cipher,
                    plan,
                    numbers=range(start, min(members, start + 1000)),
                    starts_on=COVER_STARTS,
                    client_id=uuid.UUID(client_id),
                    platform_code="bench-delivery",
                )
                await session.commit()
            ids.extend(str(m.member_id) for m in covered)
    finally:
        await runtime.close()
    return ids


def claim_requests(members: list[str], api_key: str, run: str):
    headers = {"Authorization": f"Bearer {api_key}"}

    def request(n: int) -> bytes:
        body = {
            "member_id": members[n % len(members)],
            "benefit": "accident_condolence",
            "event": {
                "kind": "accident",
                "occurred_on": (COVER_STARTS + timedelta(days=n % 300)).isoformat(),
                "ref": f"{run}-{n}",
            },
            "facts": {},
            "documents": DOCUMENTS,
        }
        return post(
            "/v1/claims",
            json.dumps(body).encode(),
            headers | {"Idempotency-Key": f"{run}-{n}"},
        )

    return request


def bare_requests(run: str):
    def request(n: int) -> bytes:
        return post("/bare", json.dumps({"n": n, "run": run}).encode(), {})

    return request


def measure(port: int, request, seconds: float, *, keep_bodies: bool = False) -> LoadResult:
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


def create_bare_table(database_url: str) -> None:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--workers", type=int, default=2, help="API worker processes")
    parser.add_argument("--members", type=int, default=5000)
    args = parser.parse_args()

    with fresh_database() as database_url:
        service = Service(database_url, extra_env={"MUTUALAID_CLOCK": CLOCK})
        service.run("migrate")
        created = json.loads(
            service.run("clients", "create", "--role", "citizen_app", "--name", "bench", "--json")
        )
        service.run(
            "platforms", "add", "--code", "bench-delivery", "--name", "bench",
            "--verify-url", "http://127.0.0.1:9/verify", "--work-types", "food_delivery",
        )  # fmt: skip
        members = asyncio.run(seed(service, created["id"], args.members))
        print(f"seeded {len(members)} covered members")

        port = free_port()
        service.start("serve", "--port", str(port), "--workers", str(args.workers))
        try:
            wait_until_serving(f"http://127.0.0.1:{port}/healthz")
            measure(port, claim_requests(members, created["api_key"], "warm"), args.warmup)
            claims = measure(
                port,
                claim_requests(members, created["api_key"], "run"),
                args.seconds,
                keep_bodies=True,
            )
        finally:
            service.stop()
        outcomes = Counter(json.loads(body).get("status") for body in claims.bodies)

        create_bare_table(database_url)
        baseline = Service(database_url, var_dir=service.var_dir)
        port = free_port()
        baseline.start(
            "-m", "uvicorn", "bench.bare:app", "--port", str(port),
            "--workers", str(args.workers), "--log-level", "warning", "--no-access-log",
            command=[__import__("sys").executable],
        )  # fmt: skip
        try:
            wait_until_serving(f"http://127.0.0.1:{port}/docs")
            measure(port, bare_requests("warm"), args.warmup)
            bare_result = measure(port, bare_requests("run"), args.seconds)
        finally:
            baseline.stop()

    print(f"\n{CONNECTIONS} concurrent clients, {args.workers} API workers, {args.seconds:.0f} s")
    print("| endpoint | requests | per second | p50 ms | p99 ms | statuses |")
    print("|---|---|---|---|---|---|")
    print(report("POST /v1/claims (auto-adjudicated)", claims))
    print(report("bare FastAPI, one INSERT", bare_result))
    print(f"claim outcomes: {dict(outcomes)}")
    print(
        f"claims reach {claims.per_second / bare_result.per_second:.0%} of the bare endpoint; "
        f"target {TARGET_PER_SECOND:.0f}/s with p99 under {TARGET_P99_MS:.0f} ms: "
        + (
            "met"
            if claims.per_second >= TARGET_PER_SECOND and claims.percentile_ms(0.99) < TARGET_P99_MS
            else "NOT met"
        )
    )


if __name__ == "__main__":
    main()
