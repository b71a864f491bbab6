"""Verifying platform work over HTTP: the good answer, and every way a platform can fail."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn

from app.platforms.simulator import create_simulator
from app.platforms.verification import (
    PlatformEndpoint,
    Unavailable,
    VerifierSettings,
    verify_worker,
)
from app.rules.eligibility import PlatformWork

FAST = VerifierSettings(timeout_seconds=0.3, attempts=3, backoff_seconds=0.01)
PLATFORM = PlatformEndpoint("demo-delivery", "http://platform.test/verify", "s3cret")
RECENT = (datetime.now(UTC) - timedelta(hours=3)).isoformat()
GOOD = {
    "registered": True,
    "city": "shanghai",
    "work_type": "food_delivery",
    "last_order_at": RECENT,
    "orders_last_7_days": 86,
}
WORKER = {"platform_worker_id": "rider-001", "id_number": "620102199005201237", "name": "马小龙"}


def mock_platform(*answers):
    """A transport answering each call with the next item: a dict (JSON 200), an int (status)
    or an exception to raise."""
    calls = []

    def handle(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        answer = answers[min(len(calls), len(answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, int):
            return httpx.Response(answer, text="oops")
        if isinstance(answer, bytes):
            return httpx.Response(200, content=answer)
        return httpx.Response(200, json=answer)

    return httpx.AsyncClient(transport=httpx.MockTransport(handle)), calls


async def test_a_good_answer_is_the_platforms_word():
    http, calls = mock_platform(GOOD)
    work = await verify_worker(http, PLATFORM, settings=FAST, **WORKER)

    assert isinstance(work, PlatformWork)
    assert work.registered
    assert work.orders_last_7_days == 86
    assert work.last_order_at.tzinfo is not None
    assert json.loads(calls[0].content) == WORKER
    assert calls[0].headers["authorization"] == "Bearer s3cret"


async def test_a_5xx_then_success_is_retried():
    http, calls = mock_platform(503, GOOD)
    work = await verify_worker(http, PLATFORM, settings=FAST, **WORKER)

    assert isinstance(work, PlatformWork)
    assert len(calls) == 2


@pytest.mark.parametrize(
    ("answers", "calls_made", "reason"),
    [
        ((500,), 3, "answered 500"),
        ((httpx.ReadTimeout("slow"),), 3, "timed out"),
        ((httpx.ConnectError("refused"),), 3, "connection failed"),
        ((404,), 1, "answered 404"),
        ((b"<html>not json</html>",), 1, "not in the contract's shape"),
        (({"registered": "yes", "orders_last_7_days": 3},), 1, "registered"),
        (({**GOOD, "orders_last_7_days": -1},), 1, "orders_last_7_days"),
        (({**GOOD, "last_order_at": "2026-11-22T20:15:00"},), 1, "last_order_at"),
        (({"city": "shanghai"},), 1, "registered"),
    ],
)
async def test_an_unusable_platform_is_unavailable_never_verified(answers, calls_made, reason):
    http, calls = mock_platform(*answers)
    result = await verify_worker(http, PLATFORM, settings=FAST, **WORKER)

    assert isinstance(result, Unavailable)
    assert reason in result.reason
    assert len(calls) == calls_made


@pytest.fixture
async def simulator_url():
    workers = json.loads(
        (Path(__file__).parents[2] / "app/platforms/demo_workers.json").read_text()
    )
    workers.append({**workers[0], "platform_worker_id": "rider-error", "behaviour": "error"})
    workers.append({**workers[0], "platform_worker_id": "rider-garbage", "behaviour": "garbage"})
    config = uvicorn.Config(
        create_simulator(workers, "s3cret", slow_seconds=1.0),
        host="127.0.0.1",
        port=0,
        log_level="warning",
        lifespan="off",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


async def test_the_simulator_over_real_http(simulator_url):
    platform = PlatformEndpoint("demo", f"{simulator_url}/verify", "s3cret")
    async with httpx.AsyncClient() as http:
        good = await verify_worker(http, platform, settings=FAST, **WORKER)
        stranger = await verify_worker(
            http, platform, settings=FAST, **(WORKER | {"id_number": "11010519491231002X"})
        )
        slow = await verify_worker(
            http,
            platform,
            settings=FAST,
            platform_worker_id="rider-slow",
            id_number="320102199101010018",
            name="王慢",
        )
        error = await verify_worker(
            http, platform, settings=FAST, **(WORKER | {"platform_worker_id": "rider-error"})
        )
        garbage = await verify_worker(
            http, platform, settings=FAST, **(WORKER | {"platform_worker_id": "rider-garbage"})
        )
        wrong_key = await verify_worker(
            http,
            PlatformEndpoint("demo", f"{simulator_url}/verify", "wrong"),
            settings=FAST,
            **WORKER,
        )

    assert isinstance(good, PlatformWork)
    assert good.registered
    assert good.work_type == "food_delivery"
    assert datetime.now(UTC) - good.last_order_at < timedelta(hours=4)
    assert isinstance(stranger, PlatformWork)
    assert not stranger.registered
    assert isinstance(slow, Unavailable)
    assert "timed out" in slow.reason
    assert isinstance(error, Unavailable)
    assert "500" in error.reason
    assert isinstance(garbage, Unavailable)
    assert isinstance(wrong_key, Unavailable)
    assert "401" in wrong_key.reason


def test_the_platform_sim_command_serves_the_contract(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [
        str(Path(sys.executable).with_name("mutualaid")),
        "platform-sim",
        "--port",
        str(port),
    ]
    # Started as a demo or the walkthrough starts it, beside a service with a fixed clock.
    env = dict(os.environ) | {"MUTUALAID_CLOCK": "2026-11-23T10:00:00+08:00"}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        for _ in range(100):
            try:
                response = httpx.post(f"http://127.0.0.1:{port}/verify", json=WORKER, timeout=1)
                break
            except httpx.TransportError:
                asyncio.run(asyncio.sleep(0.1))
        else:
            pytest.fail("platform-sim did not start")
        bulk = httpx.post(
            f"http://127.0.0.1:{port}/verify/bulk", json={"workers": [WORKER]}, timeout=5
        )
    finally:
        process.terminate()
        process.wait(timeout=10)

    assert response.status_code == 200
    assert response.json()["registered"] is True
    # rider-001's last order was 3 hours before the clock's now, not before the real one.
    assert response.json()["last_order_at"] == "2026-11-22T23:00:00+00:00"
    assert bulk.json()["results"][0]["platform_worker_id"] == "rider-001"


async def test_a_platform_that_trickles_its_answer_is_cut_off_in_time():
    """httpx's timeout is per read; a byte every 0.1 s would never trip it. The deadline does."""
    import time

    async def trickle():
        for _ in range(1000):
            await asyncio.sleep(0.1)
            yield b" "

    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=trickle())

    http = httpx.AsyncClient(transport=httpx.MockTransport(handle))
    started = time.monotonic()
    result = await verify_worker(http, PLATFORM, settings=FAST, **WORKER)
    elapsed = time.monotonic() - started

    assert isinstance(result, Unavailable)
    assert result.reason == "timed out"
    assert elapsed < FAST.attempts * FAST.timeout_seconds + 1


async def test_an_oversized_answer_is_unusable():
    http, _ = mock_platform(b"[" + b"1," * 40_000 + b"1]")
    result = await verify_worker(http, PLATFORM, settings=FAST, **WORKER)

    assert isinstance(result, Unavailable)
    assert "larger than" in result.reason
