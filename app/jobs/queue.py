"""Enqueue, claim, extend, finish: the job table's whole protocol.

A claim is a lease: `locked_until` says how long the worker may hold the job. A worker that dies
simply stops extending it, and once it expires any worker may claim the job again, so work is
never lost; handlers make their steps idempotent (commit progress with each chunk) so that
a reclaimed job neither repeats nor skips anything.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import utc_now
from app.core.db import Database
from app.jobs.models import Job, JobStatus

RETRY_BASE_SECONDS = 5
RETRY_MAX_SECONDS = 3600


class RetryLater(Exception):
    """Raised by a handler whose work failed in an expected way (a receiver that is down):
    run the job again after `seconds`, whatever its attempts so far. The handler, not the
    queue, decides when to stop, so it must stop raising this at some point."""

    def __init__(self, seconds: float, reason: str) -> None:
        super().__init__(reason)
        self.seconds = seconds
        self.reason = reason


LOST_LEASE = "lost_lease"


def enqueue(
    session: AsyncSession, kind: str, payload: dict[str, Any], *, max_attempts: int = 5
) -> Job:
    """Add a job to the caller's transaction: it exists exactly when the change that needs it
    commits."""
    job = Job(
        id=uuid.uuid4(),
        kind=kind,
        payload=payload,
        status=JobStatus.QUEUED.value,
        attempts=0,
        max_attempts=max_attempts,
        run_after=utc_now(),
    )
    session.add(job)
    return job


def _runnable(now: datetime) -> ColumnElement[bool]:
    return or_(
        (Job.status == JobStatus.QUEUED.value) & (Job.run_after <= now),
        (Job.status == JobStatus.RUNNING.value) & (Job.locked_until < now),
    )


async def claim(db: Database, worker_id: str, lease_seconds: float) -> Job | None:
    """The oldest runnable job (queued and due, or running with an expired lease), leased to
    this worker; None when there is nothing to do."""
    now = utc_now()
    # Look first with a read: an idle worker must not take SQLite's write lock every poll.
    async with db.reader() as session:
        if await session.scalar(select(Job.id).where(_runnable(now)).limit(1)) is None:
            return None
    async with db.writer() as session:
        candidate = (
            await session.scalars(
                select(Job)
                .where(_runnable(now))
                .order_by(Job.run_after, Job.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
        ).first()
        if candidate is None:
            return None
        candidate.status = JobStatus.RUNNING.value
        candidate.locked_by = worker_id
        candidate.locked_until = now + timedelta(seconds=lease_seconds)
        candidate.attempts += 1
        await session.commit()
        return candidate


async def extend(db: Database, job_id: uuid.UUID, worker_id: str, lease_seconds: float) -> bool:
    """Renew the lease; False when the job is no longer this worker's (it must stop)."""
    async with db.writer() as session:
        result = await session.execute(
            update(Job)
            .where(
                Job.id == job_id, Job.locked_by == worker_id, Job.status == JobStatus.RUNNING.value
            )
            .values(locked_until=utc_now() + timedelta(seconds=lease_seconds))
        )
        await session.commit()
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def finish(db: Database, job_id: uuid.UUID, worker_id: str) -> bool:
    """Mark the job done; False when its lease had passed to another worker meanwhile."""
    async with db.writer() as session:
        result = await session.execute(
            update(Job)
            .where(Job.id == job_id, Job.locked_by == worker_id)
            .values(
                status=JobStatus.DONE.value,
                locked_by=None,
                locked_until=None,
                finished_at=utc_now(),
            )
        )
        await session.commit()
    return bool(result.rowcount)  # type: ignore[attr-defined]


def backoff_seconds(attempts: int) -> float:
    return float(min(RETRY_MAX_SECONDS, RETRY_BASE_SECONDS * 2 ** min(attempts, 20)))


async def retry(db: Database, job: Job, worker_id: str, seconds: float, reason: str) -> bool:
    """Queue the job again after `seconds` (see `RetryLater`); False as for `finish`."""
    async with db.writer() as session:
        result = await session.execute(
            update(Job)
            .where(Job.id == job.id, Job.locked_by == worker_id)
            .values(
                status=JobStatus.QUEUED.value,
                locked_by=None,
                locked_until=None,
                last_error=reason[:500],
                run_after=utc_now() + timedelta(seconds=seconds),
            )
        )
        await session.commit()
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def fail(db: Database, job: Job, worker_id: str, error: str) -> str:
    """Retry later with exponential backoff, or give up after `max_attempts`; says which
    ("retry" or "failed", or "lost_lease" when the job had passed to another worker).

    `error` must be a class name or a code, never a message that could carry personal data.
    """
    give_up = job.attempts >= job.max_attempts
    async with db.writer() as session:
        result = await session.execute(
            update(Job)
            .where(Job.id == job.id, Job.locked_by == worker_id)
            .values(
                status=(JobStatus.FAILED if give_up else JobStatus.QUEUED).value,
                locked_by=None,
                locked_until=None,
                last_error=error[:500],
                run_after=utc_now() + timedelta(seconds=backoff_seconds(job.attempts)),
                finished_at=utc_now() if give_up else None,
            )
        )
        await session.commit()
    if not result.rowcount:  # type: ignore[attr-defined]
        return LOST_LEASE
    return JobStatus.FAILED.value if give_up else "retry"
