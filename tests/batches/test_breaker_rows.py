"""A batch's rows for a platform whose breaker is open, on both databases: they are
`platform_unavailable` at once, the platform not called; after the cool-down one row probes it
alone, and when it answers the breaker closes and the chunk's other rows are asked as usual."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import replace
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from app.breakers.models import CircuitBreaker
from app.platforms.schemas import PlatformIn
from app.platforms.service import add_platform
from tests.support.batches import RIDERS, drain, row, submit
from tests.support.enrolment import NOW

ROWS = 3
THRESHOLD = 2
COOLDOWN_SECONDS = 0.5


class Flaky:
    """A platform that answers 503 while `down`, else every worker as active."""

    def __init__(self) -> None:
        self.down = True
        self.asked: list[str] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.asked.append(json.loads(request.content)["platform_worker_id"])
        if self.down:
            return httpx.Response(503)
        return httpx.Response(
            200,
            json={
                "registered": True,
                "city": "shanghai",
                "work_type": "food_delivery",
                "last_order_at": (NOW - timedelta(hours=1)).isoformat(),
                "orders_last_7_days": 20,
            },
        )


@pytest.fixture
async def flaky(app, db):
    platform = Flaky()
    runtime = app.state.runtime
    async with db.writer() as session:
        await add_platform(
            session,
            runtime.cipher,
            PlatformIn(
                code="flaky",
                name="flaky",
                work_types=["food_delivery"],
                verify_url="http://flaky.test/verify",
            ),
            None,
        )
        await session.commit()
    await runtime.http.aclose()
    settings = runtime.settings.model_copy(
        update={
            "platform_breaker_threshold": THRESHOLD,
            "platform_breaker_cooldown_seconds": COOLDOWN_SECONDS,
        }
    )
    app.state.runtime = replace(
        runtime,
        settings=settings,
        http=httpx.AsyncClient(mounts={"http://flaky.test": httpx.MockTransport(platform)}),
    )
    return platform


async def batch_outcomes(http, union, app, key: str) -> list[tuple[str, list[str]]]:
    rows = [
        row(f"r{i}", number, f"f-{i}", platform_code="flaky")
        for i, number in enumerate(RIDERS[:ROWS])
    ]
    created = await submit(http, union, rows, key=key)
    assert created.status_code == 202, created.text
    await drain(app)
    listed = await http.get(f"/v1/enrolment-batches/{created.json()['id']}/rows", headers=union)
    assert listed.status_code == 200, listed.text
    return sorted((r["outcome"], r["codes"]) for r in listed.json()["rows"])


async def breaker_state(db) -> str:
    async with db.reader() as session:
        return await session.scalar(
            select(CircuitBreaker.state).where(CircuitBreaker.name == "flaky")
        )


async def test_rows_for_an_open_breaker_are_unavailable_at_once_until_a_probe_closes_it(
    http, union, app, db, flaky
):
    unavailable = [("rejected", ["platform_unavailable"])] * ROWS
    # Failing calls open the breaker.
    assert await batch_outcomes(http, union, app, f"down-{uuid.uuid4()}") == unavailable
    assert await breaker_state(db) == "open"

    # While it is open, no row is sent to the platform.
    flaky.asked.clear()
    assert await batch_outcomes(http, union, app, f"open-{uuid.uuid4()}") == unavailable
    assert flaky.asked == []

    # After the cool-down one row probes it, alone; it answers, so the others are asked too.
    await asyncio.sleep(COOLDOWN_SECONDS)
    flaky.down = False
    assert await batch_outcomes(http, union, app, f"up-{uuid.uuid4()}") == [("accepted", [])] * ROWS
    assert len(flaky.asked) == ROWS
    assert await breaker_state(db) == "closed"
