"""No partner can starve the others, against real `mutualaid serve`, `mutualaid worker` and
`mutualaid platform-sim` processes on PostgreSQL.

One union's 100-row batch names a platform that accepts connections and never answers. While
the one job worker is on it, another union's 3-row batch for a platform that answers is done
within seconds, and a platform's webhook is delivered within seconds: the hanging platform's
breaker opens after a few timeouts (its other rows are `platform_unavailable` at once), the
other union's chunk is claimed before the hanging union's next one, and webhook deliveries run
in their own lane, never behind a batch chunk.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from datetime import date

import httpx
import pytest
from sqlalchemy import select

from app.batches.models import BatchRow, EnrolmentBatch
from app.core.policy import Role
from app.demo.cover import Seed, add_covered_members
from app.platforms.schemas import PlatformIn
from app.platforms.service import add_platform
from app.platforms.simulator import synthetic_workers
from app.webhooks.models import EventType
from app.webhooks.outbox import CoverageChange, emit
from tests.support.claims import PLAN, add_seeder
from tests.support.hanging import hanging_server
from tests.support.processes import (
    environment,
    free_port,
    running,
    start,
    wait_for,
    wait_until_serving,
)
from tests.support.receiver import running_receiver
from tests.support.service import bearer

pytestmark = pytest.mark.only_backend("postgresql")

SETTINGS = {
    "MUTUALAID_PLATFORM_TIMEOUT_SECONDS": "1",
    "MUTUALAID_PLATFORM_ATTEMPTS": "2",
    "MUTUALAID_BATCH_CHUNK_ROWS": "25",
    "MUTUALAID_WEBHOOK_ALLOW_PRIVATE_URLS": "true",
    "MUTUALAID_WEBHOOK_RETRY_BASE_SECONDS": "0",
    "MUTUALAID_WEBHOOK_TIMEOUT_SECONDS": "2",
}
# What the other union and the platform's receiver may wait, from the moment they have work.
WITHIN = 5.0
# Generous bounds for what is not being measured (processes starting, the hanging batch).
STARTING = 30.0
HANGING_ROWS = 100
OTHER_ROWS = 3
BATCH_PLAN = "shanghai-new-employment-e"


def _platform(code: str, verify_url: str) -> PlatformIn:
    return PlatformIn(code=code, name=code, work_types=["food_delivery"], verify_url=verify_url)


def _rows(people: list[dict], platform_code: str, prefix: str) -> list[dict]:
    return [
        {
            "ref": f"{prefix}{i}",
            "id_number": person["id_number"],
            "name": person["name"],
            "phone": f"139{i:08d}",
            "platform_code": platform_code,
            "platform_worker_id": person["platform_worker_id"],
            "work_type": "food_delivery",
            "union_member_number": f"{prefix}{i}",
        }
        for i, person in enumerate(people)
    ]


async def _batch_done(db, batch_id: str) -> bool:
    async with db.reader() as session:
        batch = await session.get(EnrolmentBatch, uuid.UUID(batch_id))
    return batch is not None and batch.status == "done"


async def _outcomes(db, batch_id: str) -> Counter[tuple[str, str]]:
    async with db.reader() as session:
        rows = await session.execute(
            select(BatchRow.outcome, BatchRow.codes).where(BatchRow.batch_id == uuid.UUID(batch_id))
        )
        return Counter((outcome, ",".join(codes)) for outcome, codes in rows)


async def _send_batch(http, headers, rows) -> str:
    created = await http.post(
        "/v1/enrolment-batches",
        json={"plan_code": BATCH_PLAN, "rows": rows},
        headers=headers | {"Idempotency-Key": f"batch-{uuid.uuid4()}"},
    )
    assert created.status_code == 202, created.text
    return created.json()["id"]


async def _seeded_member(db, runtime) -> uuid.UUID:
    """A covered worker of `demo-delivery`, whose cover a webhook will tell the platform of."""
    async with db.writer() as session:
        seeder = await add_seeder(session, runtime.cipher)
        [member] = await add_covered_members(
            session, runtime.cipher, Seed(PLAN, date(2026, 1, 1), seeder, "demo-delivery"), [7331]
        )
        await session.commit()
    return member.member_id


async def _event_for(db, member_id: uuid.UUID) -> None:
    async with db.writer() as session:
        change = CoverageChange(
            member_id, EventType.COVERAGE_ACTIVATED, PLAN.code, date(2026, 1, 1), date(2026, 12, 31)
        )
        assert await emit(session, [change]) == 1
        await session.commit()


async def test_a_hanging_platform_starves_neither_another_union_nor_webhooks(
    settings, db, runtime, api_key
):
    env = environment(settings) | SETTINGS
    api_port, sim_port = free_port(), free_port()
    people = synthetic_workers(OTHER_ROWS + HANGING_ROWS)
    server = start(["serve", "--port", str(api_port)], env)
    simulator = start(
        ["platform-sim", "--port", str(sim_port), "--synthetic", str(OTHER_ROWS)], env
    )
    worker = start(["worker", "--poll-seconds", "0.05", "--lease-seconds", "10"], env)
    with (
        running(server, simulator, worker),
        hanging_server() as hang,
        running_receiver() as receiver,
    ):
        api = f"http://127.0.0.1:{api_port}"
        await wait_until_serving(api)
        async with db.writer() as session:
            await add_platform(
                session, runtime.cipher, _platform("hang", f"{hang.url}/verify"), None
            )
            sim = f"http://127.0.0.1:{sim_port}/verify"
            await add_platform(session, runtime.cipher, _platform("sim", sim), None)
            await session.commit()
        member_id = await _seeded_member(db, runtime)
        hanging_union = bearer(await api_key(Role.UNION, "union-hang"))
        other_union = bearer(await api_key(Role.UNION, "union-other"))
        platform = bearer(await api_key(Role.PLATFORM, "demo-delivery", "demo-delivery-api"))
        async with httpx.AsyncClient(base_url=api, timeout=STARTING) as http:
            hook = await http.post(
                "/v1/platform/webhooks",
                json={"url": receiver.url},
                headers=platform | {"Idempotency-Key": f"hook-{uuid.uuid4()}"},
            )
            assert hook.status_code == 201, hook.text
            hanging = await _send_batch(
                http, hanging_union, _rows(people[OTHER_ROWS:], "hang", "H")
            )

            async def asked() -> bool:
                return hang.requests("/verify") >= 1

            await wait_for(asked, within=STARTING)  # the worker is on the hanging platform

            began = time.monotonic()
            other = await _send_batch(http, other_union, _rows(people[:OTHER_ROWS], "sim", "O"))
            await _event_for(db, member_id)

            async def delivered() -> bool:
                return len(receiver.received) >= 1

            async def seconds_until(predicate) -> float:
                await wait_for(predicate, within=WITHIN, step=0.05)
                return time.monotonic() - began

            other_done, hook_delivered = await asyncio.gather(
                seconds_until(lambda: _batch_done(db, other)), seconds_until(delivered)
            )

            await wait_for(lambda: _batch_done(db, hanging), within=STARTING, step=0.1)
            metrics = (await http.get("/metrics")).text

    print(f"\nother union's batch done in {other_done:.2f}s, webhook in {hook_delivered:.2f}s")
    assert await _outcomes(db, other) == {("accepted", ""): OTHER_ROWS}
    assert await _outcomes(db, hanging) == {("rejected", "platform_unavailable"): HANGING_ROWS}
    # The breaker opened: most rows were never sent to the platform at all.
    assert hang.requests("/verify") < HANGING_ROWS
    assert 'mutualaid_breaker_state{name="hang",partner="platform"} 2.0' in metrics
    assert 'mutualaid_breaker_trips_total{name="hang",partner="platform"} 1.0' in metrics
