"""Fair work among jobs: a job waiting on a slow partner holds its own lane only, and within a
kind the owners (`fair_key`: a union, a platform) take turns instead of oldest first."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from app.jobs import queue
from app.jobs.models import Job, JobStatus
from app.jobs.worker import Duties, Worker

KIND = "test.chunk"


async def add(db, kind: str, fair_key: str | None = None, n: int = 1) -> None:
    async with db.writer() as session:
        for i in range(n):
            queue.enqueue(session, kind, {"owner": fair_key, "n": i}, fair_key=fair_key)
        await session.commit()


async def test_a_job_stuck_in_its_lane_holds_no_other_lane(db, runtime):
    released, done = asyncio.Event(), asyncio.Event()

    async def hangs(runtime_, job, heartbeat):
        await released.wait()

    async def quick(runtime_, job, heartbeat):
        done.set()

    await add(db, "test.hangs")
    await add(db, "test.quick")
    duties = Duties(lanes=queue.lanes({"partner": ["test.hangs"]}))
    worker = Worker(
        runtime, {"test.hangs": hangs, "test.quick": quick}, poll_seconds=0.02, duties=duties
    )
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    try:
        await asyncio.wait_for(done.wait(), timeout=5)
        async with db.reader() as session:
            statuses = dict((await session.execute(select(Job.kind, Job.status))).all())
        assert statuses["test.hangs"] == JobStatus.RUNNING.value
    finally:
        released.set()
        stop.set()
        await asyncio.wait_for(running, timeout=5)


async def test_one_owners_many_jobs_take_turns_with_anothers_later_one(db, runtime):
    order: list[str] = []

    async def record(runtime_, job, heartbeat):
        order.append(job.payload["owner"])

    await add(db, KIND, "union:big", n=4)
    await add(db, KIND, "union:small")
    worker = Worker(runtime, {KIND: record})

    while await worker.run_once():
        pass

    assert order == ["union:big", "union:small", "union:big", "union:big", "union:big"]


async def test_an_owner_with_a_job_running_waits_for_those_with_none(db):
    await add(db, KIND, "union:big", n=2)
    await add(db, KIND, "union:small")

    # Two workers with no turns of their own: the first takes the oldest, and while it runs
    # the second takes the owner with nothing running, not the older job beside it.
    first = await queue.claim(db, "worker-1", 60)
    second = await queue.claim(db, "worker-2", 60)

    assert (first.fair_key, second.fair_key) == ("union:big", "union:small")


async def test_within_one_owner_the_oldest_goes_first(db, runtime):
    order: list[int] = []

    async def record(runtime_, job, heartbeat):
        order.append(job.payload["n"])

    await add(db, KIND, "union:only", n=5)
    worker = Worker(runtime, {KIND: record})
    while await worker.run_once():
        pass
    assert order == [0, 1, 2, 3, 4]
