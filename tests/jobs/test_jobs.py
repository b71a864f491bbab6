"""The job table: enqueue in the change's transaction, claim once, retry, reclaim, give up."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from sqlalchemy import select, update

from app.core.clock import utc_now
from app.jobs import queue
from app.jobs.models import Job, JobStatus
from app.jobs.worker import Worker


async def jobs(db) -> list[Job]:
    async with db.reader() as session:
        return list((await session.scalars(select(Job).order_by(Job.created_at))).all())


async def add(db, kind: str = "test.echo", n: int = 1, **kw) -> list[uuid.UUID]:
    async with db.writer() as session:
        created = [queue.enqueue(session, kind, {"n": i}, **kw).id for i in range(n)]
        await session.commit()
    return created


async def make_due(db) -> None:
    async with db.writer() as session:
        await session.execute(update(Job).values(run_after=utc_now() - timedelta(seconds=1)))
        await session.commit()


async def test_a_job_exists_only_if_its_transaction_commits(db):
    async with db.writer() as session:
        queue.enqueue(session, "test.echo", {})
        await session.rollback()

    assert await jobs(db) == []


async def test_a_worker_runs_the_handler_and_marks_it_done(db, runtime):
    seen = []

    async def echo(runtime_, job, heartbeat):
        assert await heartbeat()
        seen.append(job.payload["n"])

    await add(db, n=2)
    worker = Worker(runtime, {"test.echo": echo})

    assert await worker.run_once()
    assert await worker.run_once()
    assert not await worker.run_once()
    assert sorted(seen) == [0, 1]
    assert {j.status for j in await jobs(db)} == {JobStatus.DONE.value}


async def test_a_failing_job_is_retried_later_then_given_up(db, runtime):
    async def broken(runtime_, job, heartbeat):
        raise ValueError("details that must not be stored 310101199001011234")

    await add(db, "test.broken", max_attempts=2)
    worker = Worker(runtime, {"test.broken": broken})

    assert await worker.run_once()
    [job] = await jobs(db)
    assert (job.status, job.attempts, job.last_error) == ("queued", 1, "ValueError")
    assert job.run_after > utc_now()
    assert not await worker.run_once()  # not due yet

    await make_due(db)
    assert await worker.run_once()
    [job] = await jobs(db)
    assert (job.status, job.attempts) == ("failed", 2)
    assert job.finished_at is not None


async def test_concurrent_workers_never_claim_a_job_twice(db):
    await add(db, n=12)

    claimed = await asyncio.gather(*(queue.claim(db, f"w{i}", 60) for i in range(20)))

    ids = [job.id for job in claimed if job is not None]
    assert len(ids) == 12
    assert len(set(ids)) == 12


async def test_a_dead_workers_job_is_reclaimed_when_its_lease_expires(db):
    await add(db)
    first = await queue.claim(db, "dead-worker", 60)
    assert await queue.claim(db, "other", 60) is None  # leased

    async with db.writer() as session:
        await session.execute(update(Job).values(locked_until=utc_now() - timedelta(seconds=1)))
        await session.commit()
    second = await queue.claim(db, "other", 60)

    assert second.id == first.id
    assert second.attempts == 2
    assert not await queue.extend(db, first.id, "dead-worker", 60)  # it must stop
    assert await queue.extend(db, first.id, "other", 60)


async def test_an_unknown_kind_fails_without_running_anything(db, runtime):
    await add(db, "no.such.kind", max_attempts=1)

    assert await Worker(runtime, {}).run_once()
    [job] = await jobs(db)
    assert (job.status, job.last_error) == ("failed", "unknown_job_kind")


async def test_the_worker_loop_stops_when_asked(db, runtime):
    done = asyncio.Event()

    async def echo(runtime_, job, heartbeat):
        done.set()

    await add(db)
    stop = asyncio.Event()
    task = asyncio.create_task(Worker(runtime, {"test.echo": echo}, poll_seconds=0.05).run(stop))
    await asyncio.wait_for(done.wait(), timeout=10)
    stop.set()
    await asyncio.wait_for(task, timeout=10)

    [job] = await jobs(db)
    assert job.status == "done"


async def test_a_running_job_keeps_its_lease_while_its_handler_waits(db, runtime):
    started = asyncio.Event()

    async def slow(runtime_, job, heartbeat):
        started.set()
        await asyncio.sleep(1.0)

    async with db.writer() as session:
        queue.enqueue(session, "test.slow", {})
        await session.commit()
    holder = Worker(runtime, {"test.slow": slow}, lease_seconds=0.3)
    other = Worker(runtime, {"test.slow": slow}, lease_seconds=0.3)
    task = asyncio.create_task(holder.run_once())
    await started.wait()
    await asyncio.sleep(0.6)  # twice the lease
    assert not await other.run_once()
    assert await task
    async with db.reader() as session:
        job = (await session.scalars(select(Job))).one()
    assert (job.status, job.attempts) == ("done", 1)


async def test_retry_later_requeues_after_the_given_wait_whatever_the_attempts(db, runtime):
    async def handler(runtime, job, heartbeat):
        raise queue.RetryLater(3600, "receiver_down")

    async with db.writer() as session:
        job = queue.enqueue(session, "later", {}, max_attempts=1)
        await session.commit()
    worker = Worker(runtime, {"later": handler})

    assert await worker.run_once() is True
    assert await worker.run_once() is False  # not due for an hour

    async with db.reader() as session:
        stored = await session.get(Job, job.id)
    assert stored.status == JobStatus.QUEUED.value  # one attempt of one allowed, not given up
    assert stored.last_error == "receiver_down"
    assert timedelta(minutes=59) < stored.run_after - utc_now() <= timedelta(hours=1)


async def test_periodic_tasks_run_when_due_and_one_failing_stops_no_other(db, runtime):
    from app.jobs.worker import Periodic

    runs: list[str] = []

    async def sweep(runtime) -> int:
        runs.append("sweep")
        return 1

    async def broken(runtime) -> int:
        runs.append("broken")
        raise RuntimeError("database away")

    worker = Worker(
        runtime, {}, periodic=[Periodic("broken", 60, broken), Periodic("sweep", 60, sweep)]
    )
    await worker.run_periodic()
    await worker.run_periodic()  # nothing is due again within the minute

    assert runs == ["broken", "sweep"]
