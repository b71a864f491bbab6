"""Enqueue, claim, extend, finish: the job table's whole protocol.

A claim is a lease: `locked_until` says how long the worker may hold the job. A worker that dies
simply stops extending it, and once it expires any worker may claim the job again, so work is
never lost; handlers make their steps idempotent (commit progress with each chunk) so that
a reclaimed job neither repeats nor skips anything.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, case, func, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import utc_now
from app.core.db import Database
from app.core.purging import delete_in_steps
from app.jobs.models import Job, JobStatus

RETRY_BASE_SECONDS = 5
RETRY_MAX_SECONDS = 3600
# How many of a lane's oldest runnable jobs a claim chooses among: enough to hold every union's
# chunks of a few large batches, few enough that a claim stays one short indexed read.
FAIR_WINDOW = 200

Group = tuple[str, str | None]  # (kind, fair_key): whose turn it is


@dataclass(frozen=True)
class Lane:
    """The kinds of job one worker loop claims: `kinds`, or (None) every kind but `others`.

    Each worker process runs one loop per lane, so that a job waiting on a slow partner holds
    only its own lane: a webhook delivery or an invoice's activation never queues behind a
    batch chunk (ADR 0009)."""

    name: str
    kinds: frozenset[str] | None = None
    others: frozenset[str] = frozenset()

    def where(self) -> ColumnElement[bool]:
        if self.kinds is not None:
            return Job.kind.in_(sorted(self.kinds))
        if self.others:
            return Job.kind.not_in(sorted(self.others))
        return true()


ANY_LANE = Lane("any")
DEFAULT_LANE = "default"


def lanes(named: Mapping[str, Iterable[str]]) -> tuple[Lane, ...]:
    """A lane for each name's kinds, and the default lane for every other kind."""
    own = [Lane(name, frozenset(kinds)) for name, kinds in named.items()]
    taken = frozenset(kind for lane in own for kind in lane.kinds or ())
    return (*own, Lane(DEFAULT_LANE, None, taken))


class Turns:
    """When one worker loop last took each group's job, in claims: the group it served longest
    ago goes first. Per loop and in memory: every loop takes turns on its own."""

    # Groups are unions, platforms and kinds: forgetting past this many only costs fairness.
    MAX_GROUPS = 10_000

    def __init__(self) -> None:
        self._last: dict[Group, int] = {}
        self._claims = 0

    def last(self, group: Group) -> int:
        return self._last.get(group, 0)

    def took(self, group: Group) -> None:
        if len(self._last) >= self.MAX_GROUPS:
            self._last.clear()
        self._claims += 1
        self._last[group] = self._claims


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
    session: AsyncSession,
    kind: str,
    payload: dict[str, Any],
    *,
    max_attempts: int = 5,
    fair_key: str | None = None,
) -> Job:
    """Add a job to the caller's transaction: it exists exactly when the change that needs it
    commits. `fair_key` says whose work it is (a union, a platform): claims take turns between
    the owners of one kind's jobs (`claim`)."""
    job = Job(
        id=uuid.uuid4(),
        kind=kind,
        fair_key=fair_key,
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


async def claim(
    db: Database,
    worker_id: str,
    lease_seconds: float,
    lane: Lane = ANY_LANE,
    turns: Turns | None = None,
) -> Job | None:
    """A runnable job of the lane (queued and due, or running with an expired lease), leased to
    this worker; None when there is nothing to do.

    Fair rather than oldest first: among the lane's `FAIR_WINDOW` oldest runnable jobs, the
    oldest of the group (kind and `fair_key`) with the fewest jobs running now, and among those
    the group this worker served longest ago (`turns`). So one union's hundred chunks, or one
    platform's deliveries to a receiver that hangs, take turns with everyone else's work
    instead of going first; work of a single group still goes oldest first."""
    now = utc_now()
    # Look first with a read: an idle worker must not take SQLite's write lock every poll.
    async with db.reader() as session:
        window = (
            await session.execute(
                select(Job.id, Job.kind, Job.fair_key)
                .where(_runnable(now), lane.where())
                .order_by(Job.run_after, Job.id)
                .limit(FAIR_WINDOW)
            )
        ).all()
        if not window:
            return None
        running = await _running(session, {(row.kind, row.fair_key) for row in window}, now)
    preferred = _fair_order(window, running, turns)
    async with db.writer() as session:
        rank = {job_id: n for n, job_id in enumerate(preferred)}
        candidate = (
            await session.scalars(
                select(Job)
                .where(Job.id.in_(preferred), _runnable(now))
                .order_by(case(rank, value=Job.id))
                .limit(1)
                .with_for_update(skip_locked=True)
            )
        ).first()
        if candidate is None:
            return None  # all taken by other workers meanwhile: look again at the next poll
        candidate.status = JobStatus.RUNNING.value
        candidate.locked_by = worker_id
        candidate.locked_until = now + timedelta(seconds=lease_seconds)
        candidate.attempts += 1
        await session.commit()
    if turns is not None:
        turns.took((candidate.kind, candidate.fair_key))
    return candidate


async def _running(session: AsyncSession, groups: set[Group], now: datetime) -> dict[Group, int]:
    """How many jobs of each of these groups are running now (with a live lease)."""
    if len(groups) < 2:
        return {}  # one group: nothing to choose between
    rows = await session.execute(
        select(Job.kind, Job.fair_key, func.count())
        .where(
            Job.status == JobStatus.RUNNING.value,
            Job.locked_until >= now,
            Job.kind.in_({kind for kind, _ in groups}),
        )
        .group_by(Job.kind, Job.fair_key)
    )
    return {(kind, fair_key): count for kind, fair_key, count in rows}


def _fair_order(
    window: Sequence[Row[uuid.UUID, str, str | None]],
    running: dict[Group, int],
    turns: Turns | None,
) -> list[uuid.UUID]:
    def key(position: int) -> tuple[int, int, int]:
        group = (window[position].kind, window[position].fair_key)
        return (running.get(group, 0), turns.last(group) if turns else 0, position)

    return [window[n].id for n in sorted(range(len(window)), key=key)]


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


async def purge_done(db: Database, finished_before: datetime) -> int:
    """Forget jobs done before `finished_before`, in small steps; failed jobs stay for the
    operator to look at."""
    return await delete_in_steps(
        db, Job, (Job.status == JobStatus.DONE.value) & (Job.finished_at < finished_before)
    )
