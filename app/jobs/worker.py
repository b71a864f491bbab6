"""The job worker: claims jobs, runs their handler, and keeps the lease alive.

`mutualaid worker` runs it as a process (several of them share the load on PostgreSQL); on
SQLite, `mutualaid serve` runs one inside the API process. A handler receives a `heartbeat`
to call between steps: it renews the lease and answers False when the job was taken over,
in which case the handler must stop.

A worker runs one loop per lane (`app.jobs.queue.Lane`), each one job at a time, and its timed
tasks in a loop of their own: a job waiting on a slow partner holds its lane only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from app.core.metrics import JOBS_FINISHED
from app.core.runtime import Runtime
from app.jobs import queue
from app.jobs.models import Job

logger = logging.getLogger(__name__)

Heartbeat = Callable[[], Awaitable[bool]]
Handler = Callable[[Runtime, Job, Heartbeat], Awaitable[None]]


@dataclass(frozen=True)
class Periodic:
    """Work every worker runs on a timer (a sweep, a purge). It must be safe to run in several
    workers at once and to run late: each claims its rows and marks them done."""

    name: str
    every_seconds: float
    run: Callable[[Runtime], Awaitable[int]]


@dataclass(frozen=True)
class Duties:
    """What a worker does besides running handlers: its timed tasks, and the lanes it claims
    jobs in (one loop each; by default a single loop for every kind)."""

    periodic: Sequence[Periodic] = ()
    lanes: Sequence[queue.Lane] = (queue.ANY_LANE,)


def worker_name() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Worker:
    # The pause between lease renewals. An attribute so that a test can step it by hand instead
    # of waiting on the wall clock.
    pause: Callable[[float], Awaitable[None]] = staticmethod(asyncio.sleep)

    def __init__(
        self,
        runtime: Runtime,
        handlers: Mapping[str, Handler],
        *,
        name: str | None = None,
        lease_seconds: float = 60.0,
        poll_seconds: float = 1.0,
        duties: Duties = Duties(),
    ) -> None:
        self.runtime = runtime
        self.db = runtime.db
        self.handlers = handlers
        self.periodic = duties.periodic
        self.lanes = duties.lanes
        self._turns: dict[str, queue.Turns] = {}
        self._next_run = {task.name: 0.0 for task in self.periodic}
        self.name = name or worker_name()
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds

    async def run_once(self, lane: queue.Lane = queue.ANY_LANE) -> bool:
        """Run one job of the lane if there is one; True when a job was claimed."""
        turns = self._turns.setdefault(lane.name, queue.Turns())
        job = await queue.claim(self.db, self.name, self.lease_seconds, lane, turns)
        if job is None:
            return False
        handler = self.handlers.get(job.kind)
        if handler is None:
            outcome = await queue.fail(self.db, job, self.name, "unknown_job_kind")
            JOBS_FINISHED.labels(job.kind, outcome).inc()
            return True

        async def heartbeat() -> bool:
            return await queue.extend(self.db, job.id, self.name, self.lease_seconds)

        async def keep_leased() -> None:
            # A handler may wait on a slow platform for longer than a lease: renew it meanwhile,
            # so that only a dead worker's job is ever taken over.
            while True:
                await self.pause(self.lease_seconds / 3)
                with contextlib.suppress(Exception):  # the database may be briefly away
                    if not await heartbeat():
                        return

        renewer = asyncio.create_task(keep_leased())
        try:
            try:
                await handler(self.runtime, job, heartbeat)
            finally:
                renewer.cancel()
        except queue.RetryLater as later:
            kept = await queue.retry(self.db, job, self.name, later.seconds, later.reason)
            outcome = "retry" if kept else queue.LOST_LEASE
        except Exception as exc:
            # The class name only: exception messages may carry data the job was handling.
            logger.warning(
                "job failed",
                extra={"job_id": str(job.id), "kind": job.kind, "error": type(exc).__name__},
            )
            outcome = await queue.fail(self.db, job, self.name, type(exc).__name__)
        else:
            kept = await queue.finish(self.db, job.id, self.name)
            outcome = "done" if kept else queue.LOST_LEASE
        JOBS_FINISHED.labels(job.kind, outcome).inc()
        return True

    async def run_periodic(self) -> None:
        """Run the timed tasks that are due; one failing does not stop the others."""
        now = time.monotonic()
        for task in self.periodic:
            if now < self._next_run[task.name]:
                continue
            self._next_run[task.name] = now + task.every_seconds
            try:
                done = await task.run(self.runtime)
            except Exception as exc:
                logger.warning(
                    "periodic task failed", extra={"task": task.name, "error": type(exc).__name__}
                )
            else:
                if done:
                    logger.info("periodic task ran", extra={"task": task.name, "done": done})

    async def run(self, stop: asyncio.Event) -> None:
        """Work until `stop` is set: a loop per lane and one for the timed tasks."""
        logger.info("job worker started", extra={"worker": self.name})
        await asyncio.gather(
            self._run_periodic_until(stop), *(self._run_lane(lane, stop) for lane in self.lanes)
        )
        logger.info("job worker stopped", extra={"worker": self.name})

    async def _run_lane(self, lane: queue.Lane, stop: asyncio.Event) -> None:
        """Claim and run the lane's jobs; idle polling waits `poll_seconds` between looks."""
        while not stop.is_set():
            try:
                busy = await self.run_once(lane)
            except Exception as exc:  # the database went away: wait and try again
                logger.warning(
                    "job worker error", extra={"lane": lane.name, "error": type(exc).__name__}
                )
                busy = False
            if not busy:
                await self._idle(stop)

    async def _run_periodic_until(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.run_periodic()
            await self._idle(stop)

    async def _idle(self, stop: asyncio.Event) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=self.poll_seconds)
