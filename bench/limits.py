"""Rate limits by kind of client, against the service as deployed (`mutualaid serve`, 2 API
processes, PostgreSQL, limits at their defaults): a platform asking about its workers 300 times a
second for a minute, and at the same time a government app client sending more than its rate.

    python -m bench.limits [--seconds S] [--citizen-rate R]

Both are sent at a steady pace, not as fast as possible: the platform's by wrk (each of its
connections waits after every answer, bench/lua/coverage.lua), the government app's by a Python
client on its own schedule. The platform must never see 429; the government app client, sending
above what its role allows across the processes, must.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import Counter

import httpx

from bench.harness import Service, fresh_database
from bench.http_bench import CLOCK, prepare, seed, serving
from bench.wrk import WrkLoad, run_wrk

IN_FLIGHT = 32
TARGET_PLATFORM_RATE = 300  # issue acceptance: 300 look-ups a second for 60 s, no 429
# wrk's connections for the platform and each one's pause after an answer: 10 * 1000 / (25 + a
# few ms of latency) is somewhat over 300 a second.
PLATFORM_CONNECTIONS = 10
PLATFORM_DELAY_MS = 25


async def paced(
    http: httpx.AsyncClient, path_of: list[str], headers: dict[str, str], rate: int, seconds: float
) -> Counter[int | str]:
    """GET the paths in turn, `rate` a second for `seconds`; the statuses. At most IN_FLIGHT
    requests wait at once (httpx's pool slows down badly behind thousands), so a server that
    falls behind lowers the rate sent, which is printed."""
    statuses: Counter[int | str] = Counter()
    started = time.monotonic()
    in_flight = asyncio.Semaphore(IN_FLIGHT)
    tasks: list[asyncio.Task[None]] = []

    async def one(path: str) -> None:
        try:
            statuses[(await http.get(path, headers=headers)).status_code] += 1
        except httpx.HTTPError:
            statuses[0] += 1
        finally:
            in_flight.release()

    for n in range(int(rate * seconds)):
        delay = started + n / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        await in_flight.acquire()
        tasks.append(asyncio.create_task(one(path_of[n % len(path_of)])))
    await asyncio.gather(*tasks)
    statuses["sent_per_second"] = round(sum(statuses.values()) / (time.monotonic() - started))
    return statuses


async def drive(
    port: int, platform_key: str, citizen_key: str, workers_file: str, args: argparse.Namespace
) -> None:
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=30
    ) as http:
        me = await http.get("/v1/clients/me", headers={"Authorization": f"Bearer {platform_key}"})
        print(f"platform client held to {me.json()['rate_limit_per_second']} a second per process")
        lookups = WrkLoad(
            "coverage.lua", (workers_file, "/v1/platform/workers/", "/coverage", platform_key)
        )
        (platform, _), citizen = await asyncio.gather(
            asyncio.to_thread(
                run_wrk,
                port,
                lookups,
                connections=PLATFORM_CONNECTIONS,
                seconds=args.seconds,
                delay_ms=PLATFORM_DELAY_MS,
            ),
            paced(
                http,
                ["/v1/plans"],
                {"Authorization": f"Bearer {citizen_key}"},
                args.citizen_rate,
                args.seconds,
            ),
        )
    print(
        f"platform, {platform.per_second:.0f}/s for {platform.seconds:.0f} s (wrk): "
        f"{dict(platform.statuses)}, socket errors {platform.socket_errors}"
    )
    print(f"government app, {args.citizen_rate}/s for {args.seconds:.0f} s: {dict(citizen)}")
    met = (
        set(platform.statuses) == {200}
        and not platform.socket_errors
        and platform.per_second >= TARGET_PLATFORM_RATE
        and citizen.get(429, 0) > 0
    )
    print(
        f"no 429 for the platform at {TARGET_PLATFORM_RATE}/s or more, 429s for the government "
        "app over its rate: " + ("met" if met else "NOT met")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--citizen-rate", type=int, default=150)
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    with fresh_database() as database_url:
        # Limits at their defaults, as deployed.
        service = Service(
            database_url,
            extra_env={"MUTUALAID_CLOCK": CLOCK, "MUTUALAID_RATE_LIMITS_ENABLED": "true"},
        )
        platform = prepare(service, "platform", "bench-delivery")
        citizen = prepare_client(service, "citizen_app")
        seeded = asyncio.run(seed(service, platform["id"], args.members))
        workers_file = service.var_dir / "bench-workers.txt"
        workers_file.write_text("".join(f"{m.platform_worker_id}\n" for m in seeded))
        with serving(service, args.workers) as port:
            asyncio.run(
                drive(port, platform["api_key"], citizen["api_key"], str(workers_file), args)
            )


def prepare_client(service: Service, role: str) -> dict[str, str]:
    return dict(json.loads(service.run("clients", "create", "--role", role, "--json")))


if __name__ == "__main__":
    main()
