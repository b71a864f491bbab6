"""The job table: enqueue in the change's transaction, claim once, retry, reclaim, give up."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from sqlalchemy import select, update

from app.core.clock import utc_now
from app.jobs import queue
from app.jobs.models import Job, JobStatus
from app.jobs.worker import Duties, Worker


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


class SteppedPauses:
    """Stands in for the worker's pause between lease renewals: each pause lasts until the test
    calls `step()`, and `step()` returns once the renewal that followed has been made (the worker
    is pausing again). Time passes only when the test says so."""

    def __init__(self) -> None:
        self._go = asyncio.Event()
        self._pausing = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        self._pausing.set()
        await self._go.wait()
        self._go.clear()

    async def step(self) -> None:
        await asyncio.wait_for(self._pausing.wait(), timeout=10)
        self._pausing.clear()
        self._go.set()
        await asyncio.wait_for(self._pausing.wait(), timeout=10)


async def lease_of(db, job_id):
    async with db.reader() as session:
        return (await session.get(Job, job_id, populate_existing=True)).locked_until


async def test_a_running_job_keeps_its_lease_while_its_handler_waits(db, runtime):
    started, release = asyncio.Event(), asyncio.Event()

    async def slow(runtime_, job, heartbeat):
        started.set()
        await release.wait()

    [job_id] = await add(db, "test.slow")
    holder = Worker(runtime, {"test.slow": slow}, lease_seconds=60)
    holder.pause = SteppedPauses()
    other = Worker(runtime, {"test.slow": slow}, lease_seconds=60)
    task = asyncio.create_task(holder.run_once())
    await asyncio.wait_for(started.wait(), timeout=10)

    # The handler has outlived its lease, as a slow platform call would.
    async with db.writer() as session:
        await session.execute(
            update(Job).where(Job.id == job_id).values(locked_until=utc_now() - timedelta(1))
        )
        await session.commit()
    assert await lease_of(db, job_id) < utc_now()

    await holder.pause.step()  # one renewal while the handler still waits

    assert await lease_of(db, job_id) > utc_now() + timedelta(seconds=50)
    assert not await other.run_once()  # a live worker's job is not taken over
    release.set()
    assert await asyncio.wait_for(task, timeout=10)
    [stored] = await jobs(db)
    assert (stored.status, stored.attempts) == ("done", 1)


async def test_a_dead_workers_job_is_taken_over_once_its_lease_has_passed(db, runtime):
    started, release = asyncio.Event(), asyncio.Event()
    ran: list[str] = []

    async def slow(runtime_, job, heartbeat):
        ran.append("first")
        started.set()
        await release.wait()

    async def quick(runtime_, job, heartbeat):
        ran.append("second")

    [job_id] = await add(db, "test.slow")
    holder = Worker(runtime, {"test.slow": slow}, lease_seconds=60)
    holder.pause = SteppedPauses()  # never stepped: this worker renews nothing, as if dead
    task = asyncio.create_task(holder.run_once())
    await asyncio.wait_for(started.wait(), timeout=10)
    async with db.writer() as session:
        await session.execute(
            update(Job).where(Job.id == job_id).values(locked_until=utc_now() - timedelta(1))
        )
        await session.commit()

    assert await Worker(runtime, {"test.slow": quick}).run_once()
    release.set()
    assert await asyncio.wait_for(task, timeout=10)  # the first worker finds it lost the job
    [stored] = await jobs(db)
    assert ran == ["first", "second"]
    assert (stored.status, stored.attempts) == ("done", 2)


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
        runtime, {}, duties=Duties([Periodic("broken", 60, broken), Periodic("sweep", 60, sweep)])
    )
    await worker.run_periodic()
    await worker.run_periodic()  # nothing is due again within the minute

    assert runs == ["broken", "sweep"]
