"""A real `mutualaid worker` process killed in the middle of a batch, on PostgreSQL: a second
worker finishes it, and every row has exactly one outcome and one member record."""

from __future__ import annotations

import signal
import uuid

import httpx
import pytest
from sqlalchemy import func, select

from app.batches.models import BatchRow, EnrolmentBatch
from app.core.policy import Role
from app.enrolment.models import Enrolment
from app.jobs.models import Job
from app.members.models import Member
from app.platforms.schemas import PlatformIn
from app.platforms.service import add_platform
from app.platforms.simulator import synthetic_workers
from tests.support.processes import environment, free_port, running, start, wait_for
from tests.support.service import bearer

pytestmark = pytest.mark.only_backend("postgresql")

ROWS = 8000


async def test_a_killed_worker_loses_and_repeats_nothing(settings, app, db, client, api_key):
    env = environment(settings)
    port = free_port()
    simulator = start(["platform-sim", "--port", str(port), "--synthetic", str(ROWS)], env)
    with running(simulator):
        await wait_for(lambda: _answers(f"http://127.0.0.1:{port}/docs"), within=30, step=0.1)
        async with db.writer() as session:
            await add_platform(
                session,
                app.state.runtime.cipher,
                PlatformIn(
                    code="sim",
                    name="simulated",
                    work_types=["food_delivery"],
                    verify_url=f"http://127.0.0.1:{port}/verify",
                    bulk_verify_url=f"http://127.0.0.1:{port}/verify/bulk",
                ),
                None,
            )
            await session.commit()
        union = bearer(await api_key(Role.UNION, "pudong"))
        rows = [
            {
                "ref": f"S{i}",
                "id_number": w["id_number"],
                "name": w["name"],
                "phone": f"139{i:08d}",
                "platform_code": "sim",
                "platform_worker_id": w["platform_worker_id"],
                "work_type": "food_delivery",
                "union_member_number": f"PD{i}",
            }
            for i, w in enumerate(synthetic_workers(ROWS))
        ]
        created = await client.post(
            "/v1/enrolment-batches",
            json={"plan_code": "shanghai-new-employment-e", "rows": rows},
            headers=union | {"Idempotency-Key": "kill-test"},
        )
        assert created.status_code == 202, created.text
        batch_id = created.json()["id"]

        async def batch() -> EnrolmentBatch:
            async with db.reader() as session:
                found = await session.get(EnrolmentBatch, uuid.UUID(batch_id))
                assert found is not None
                return found

        first = start(["worker", "--poll-seconds", "0.05", "--lease-seconds", "2"], env)
        with running(first):
            await wait_for(lambda: _progressed(batch, db), within=60)
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        killed_at = (await batch()).processed
        # Usually the dead worker held a chunk job; rarely the kill lands between two jobs.
        held = await _running_jobs(db)
        assert 0 < killed_at < ROWS, "the kill must land in the middle of the batch"

        second = start(["worker", "--poll-seconds", "0.05", "--lease-seconds", "2"], env)
        with running(second):
            # Done, and the worker has recorded its last job as done (a moment after the
            # job's own transaction marked the batch done).
            await wait_for(lambda: _done(batch, db), within=120, step=0.1)

    done = await batch()
    assert (done.status, done.processed, done.accepted) == ("done", ROWS, ROWS)
    async with db.reader() as session:
        outcomes = await session.scalar(select(func.count()).select_from(BatchRow))
        numbers = await session.scalar(select(func.count(func.distinct(BatchRow.row_number))))
        members = await session.scalar(select(func.count()).select_from(Member))
        hashes = await session.scalar(select(func.count(func.distinct(Member.id_number_hash))))
        enrolments = await session.scalar(select(func.count()).select_from(Enrolment))
        retried = await session.scalar(
            select(func.count()).select_from(Job).where(Job.attempts > 1)
        )
        unfinished = await session.scalar(
            select(func.count()).select_from(Job).where(Job.status != "done")
        )
    assert (outcomes, numbers) == (ROWS, ROWS)
    assert (members, hashes, enrolments) == (ROWS, ROWS, ROWS)
    assert unfinished == 0
    assert retried == held  # exactly the job the dead worker held was taken over, once
    print(f"killed at {killed_at} of {ROWS} rows; {retried} chunk job(s) taken over")
    invoice = (await client.get(f"/v1/enrolment-batches/{batch_id}", headers=union)).json()
    assert invoice["invoice"]["amount_fen"] == ROWS * 7200


async def _answers(url: str) -> bool:
    try:
        async with httpx.AsyncClient() as http:
            return (await http.get(url, timeout=1)).status_code == 200
    except httpx.HTTPError:
        return False


async def _running_jobs(db) -> int:
    async with db.reader() as session:
        return await session.scalar(
            select(func.count()).select_from(Job).where(Job.status == "running")
        )


async def _progressed(batch, db) -> bool:
    """A chunk is committed and the worker holds the next one: kill it now."""
    if (await batch()).processed < 1000:
        return False
    return bool(await _running_jobs(db))


async def _done(batch, db) -> bool:
    if (await batch()).status != "done":
        return False
    async with db.reader() as session:
        running = await session.scalar(
            select(func.count()).select_from(Job).where(Job.status != "done")
        )
    return running == 0
