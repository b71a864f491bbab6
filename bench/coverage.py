"""Coverage queries: a platform asking about one worker at a time, through the HTTP API on
PostgreSQL with 64 concurrent connections driven by wrk; beside it the floor, FastAPI running
the look-up's own SELECT on a raw asyncpg pool (`bench.bare`), measured in the same run in
alternating rounds so that the machine's changing load falls on both alike.
Target: the service reaches at least 60% of the floor's throughput, with p99 under 100 ms.

    make bench            # or: python -m bench.coverage [--seconds S] [--workers N]
    make bench-layers     # what each layer in front of the SELECT costs (bench.layers)

The service runs as deployed: its JSON access log at INFO (to a file in the run's directory),
the rate limiter on (at a rate the bench never reaches), request metrics shared between the
processes. Each request authenticates the platform (remembered for a few seconds per process),
then reads the worker's account, member and current periods in one statement. Nine in ten ids
asked are covered workers of the platform, one in ten unknown.
"""

from __future__ import annotations

import argparse
import asyncio
import json

from bench.harness import Service, fresh_database
from bench.http_bench import (
    CLOCK,
    CONNECTIONS,
    DEPLOYED,
    PLATFORM,
    Endpoint,
    Rounds,
    load_generator,
    measure_interleaved,
    prepare,
    seed,
)
from bench.load import get
from bench.results import TABLE_HEAD, report
from bench.wrk import WrkLoad

TARGET_SHARE = 0.60
TARGET_P99_MS = 100.0
SPREAD = 7919  # as bench/lua/coverage.lua
UNKNOWN_EVERY = 10


def worker_id(workers: list[str], n: int) -> str:
    if n % UNKNOWN_EVERY == UNKNOWN_EVERY - 1:
        return f"unknown-{n}"
    return workers[(n * SPREAD) % len(workers)]


def _covered(body: bytes) -> str:
    return str(json.loads(body).get("covered")).lower()


def lookups(workers: list[str], workers_file: str, api_key: str) -> Endpoint:
    headers = {"Authorization": f"Bearer {api_key}"}

    def request(n: int) -> bytes:
        return get(f"/v1/platform/workers/{worker_id(workers, n)}/coverage", headers)

    args = (workers_file, "/v1/platform/workers/", "/coverage", api_key)
    return Endpoint(WrkLoad("coverage.lua", args), request, outcome=_covered)


def bare_lookups(workers: list[str], workers_file: str) -> Endpoint:
    def request(n: int) -> bytes:
        return get(f"/bare/workers/{worker_id(workers, n)}", {})

    return Endpoint(WrkLoad("coverage.lua", (workers_file, "/bare/workers/", "")), request)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0, help="per endpoint, in all")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--workers", type=int, default=2, help="API worker processes")
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds of each")
    args = parser.parse_args()

    with fresh_database() as database_url:
        service = Service(database_url, extra_env={"MUTUALAID_CLOCK": CLOCK} | DEPLOYED)
        service.log_file = service.var_dir / "service.log"
        created = prepare(service, "platform", PLATFORM)
        workers = [
            m.platform_worker_id for m in asyncio.run(seed(service, created["id"], args.members))
        ]
        workers_file = service.var_dir / "bench-workers.txt"
        workers_file.write_text("\n".join(workers) + "\n")
        print(f"seeded {len(workers)} covered workers of {PLATFORM}; load from {load_generator()}")
        service_result, bare_result = measure_interleaved(
            service,
            args.workers,
            lookups(workers, str(workers_file), created["api_key"]),
            bare_lookups(workers, str(workers_file)),
            Rounds(args.rounds, args.seconds / args.rounds, args.warmup),
        )

    share = service_result.per_second / bare_result.per_second
    print(f"\n{CONNECTIONS} connections, {args.workers} API workers, {args.seconds:.0f} s each")
    print(TABLE_HEAD)
    print(report("GET /v1/platform/workers/{id}/coverage", service_result))
    print(report("floor: FastAPI + raw asyncpg, the same SELECT", bare_result))
    print(f"covered answers: {dict(service_result.outcomes)}")
    p99 = service_result.percentile_ms(0.99)
    met = share >= TARGET_SHARE and p99 < TARGET_P99_MS
    print(
        f"coverage lookups reach {share:.0%} of the floor with p99 {p99:.0f} ms; target "
        f"{TARGET_SHARE:.0%} and under {TARGET_P99_MS:.0f} ms: " + ("met" if met else "NOT met")
    )


if __name__ == "__main__":
    main()
