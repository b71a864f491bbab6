"""Running the job queue in tests that count the jobs of their own feature: messages to workers
(`notifications.send`), which most state changes now also write, are finished unsent and not
counted, so that a test about batches or webhooks keeps counting batches or webhooks."""

from __future__ import annotations

from typing import Any

from app.core.runtime import Runtime
from app.handlers import JOB_HANDLERS
from app.jobs.models import Job
from app.jobs.worker import Handler, Heartbeat, Worker
from app.notifications.outbox import SEND_JOB


async def _set_aside(runtime: Runtime, job: Job, heartbeat: Heartbeat) -> None:
    """The message is left pending, never sent: these tests are not about messages."""


def counting_handlers(ran: list[str]) -> dict[str, Handler]:
    """Every handler, each run appending its kind to `ran`; message sends set aside, uncounted."""

    def counted(kind: str, handler: Handler) -> Handler:
        async def run(runtime: Runtime, job: Job, heartbeat: Heartbeat) -> None:
            ran.append(kind)
            await handler(runtime, job, heartbeat)

        return run

    handlers = {kind: counted(kind, handler) for kind, handler in JOB_HANDLERS.items()}
    return handlers | {SEND_JOB: _set_aside}


async def run_jobs_but_messages(application: Any, limit: int = 1_000_000, **worker: Any) -> int:
    """Run due jobs until none is left, or until `limit` jobs other than message sends ran;
    how many of those ran."""
    ran: list[str] = []
    runner = Worker(application.state.runtime, counting_handlers(ran), **worker)
    while len(ran) < limit and await runner.run_once():
        pass
    return len(ran)
