"""A job is counted as finished by the worker that finished it, once: a worker whose lease was
taken over (it stopped when its heartbeat said so) finished nothing."""

from __future__ import annotations

from datetime import timedelta

from prometheus_client import REGISTRY
from sqlalchemy import update

from app.core.clock import utc_now
from app.jobs import queue
from app.jobs.models import Job, JobStatus
from app.jobs.worker import Worker


def done_so_far(kind: str) -> float:
    labels = {"kind": kind, "outcome": "done"}
    return REGISTRY.get_sample_value("mutualaid_jobs_finished_total", labels) or 0.0


async def test_a_job_taken_over_is_counted_done_once(db, runtime):
    kind = "metrics.takeover"
    async with db.writer() as session:
        job_id = queue.enqueue(session, kind, {}).id
        await session.commit()
    before = done_so_far(kind)

    async def stops_when_taken_over(runtime_, job, heartbeat):
        if job.locked_by == "slow":
            # Meanwhile its lease ran out and another worker claimed the job.
            async with db.writer() as session:
                await session.execute(
                    update(Job)
                    .where(Job.id == job.id)
                    .values(locked_by="quick", locked_until=utc_now() - timedelta(seconds=1))
                )
                await session.commit()
            assert not await heartbeat()  # no longer ours: stop, as handlers must

    handlers = {kind: stops_when_taken_over}
    assert await Worker(runtime, handlers, name="slow").run_once()
    assert await Worker(runtime, handlers, name="quick").run_once()

    async with db.reader() as session:
        assert (await session.get(Job, job_id)).status == JobStatus.DONE.value
    assert done_so_far(kind) - before == 1
