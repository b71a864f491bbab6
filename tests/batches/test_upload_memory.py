"""An upload costs a real `mutualaid serve` process at most about twice its size in peak memory,
one at a time or three at once: the body is read, checked and sealed as it arrives, never held
whole nor as rows. Measured from the kernel's record of the process's peak resident set
(VmHWM)."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

import httpx
import pytest

from tests.support.batches import PLAN, RIDERS, as_csv, row
from tests.support.processes import environment, free_port, running, start, wait_until_serving

pytestmark = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")

ROWS = 4000
# Each row carries a long name (the row is rejected for it, which matters not here): a body of
# about 12 MiB in few rows, so the test measures what the body costs, quickly.
NAME_CHARS = 3000


def big_body() -> bytes:
    rows = [
        row(f"r{i}", RIDERS[i % len(RIDERS)], f"rider-{i}", name=secrets.token_hex(NAME_CHARS // 2))
        for i in range(ROWS)
    ]
    return as_csv(rows)


def peak_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


async def test_uploads_cost_a_server_at_most_twice_their_size(http, union, settings):
    body = big_body()
    body_mib = len(body) / 2**20
    port = free_port()
    env = environment(settings) | {
        "MUTUALAID_IN_PROCESS_WORKER": "false",
        "MUTUALAID_BATCH_UPLOAD_CONCURRENCY": "3",
    }
    server = start(["serve", "--port", str(port)], env)
    base = f"http://127.0.0.1:{port}"
    with running(server):
        await wait_until_serving(base)
        async with httpx.AsyncClient(base_url=base, headers=union, timeout=120) as server_http:

            async def upload(key: str, content: bytes) -> int:
                response = await server_http.post(
                    "/v1/enrolment-batches",
                    content=content,
                    params={"plan_code": PLAN},
                    headers={"Idempotency-Key": key, "Content-Type": "text/csv"},
                )
                return response.status_code

            # Warm up: the first upload loads what every upload uses.
            assert await upload("warm-up", as_csv([row("a", RIDERS[0], "rider-0")])) == 202
            before = peak_mib(server.pid)
            assert await upload("one", body) == 202
            one = peak_mib(server.pid) - before
            assert (
                await asyncio.gather(*(upload(f"three-{i}", body) for i in range(3))) == [202] * 3
            )
            three = peak_mib(server.pid) - before
    print(f"body {body_mib:.1f} MiB; peak +{one:.1f} MiB for one, +{three:.1f} MiB for three")
    assert one <= 2 * body_mib
    assert three <= 2 * body_mib
