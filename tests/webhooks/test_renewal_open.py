"""`coverage.renewal_open`: platforms hear once per period that its renewal can be bought, from
the day the plan opens it (30 days before the end); not for a period already renewed, nor for a
member whose death is recorded. The job workers' periodic task `renewal_openings` sends it.
The service's clock is at 23 November 2026."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import select

from app.coverage.models import CoveragePeriodRecord
from app.coverage.renewals import announce_open_renewals
from app.handlers import PERIODIC_TASKS
from app.members.models import Member
from app.plans import DEFAULT_PLAN_CODE
from tests.support.receiver import running_receiver
from tests.support.webhooks import register, seeded


async def test_an_open_renewal_is_announced_once_per_period(
    http, delivery, db, runtime, run_jobs, app
):
    # Ends 9 December 2026: renewal opened on 10 November.
    due = await seeded(db, runtime, date(2025, 12, 10))
    # Ends 31 December 2026: renewal opens on 2 December, not yet.
    later = await seeded(db, runtime, date(2026, 1, 1))
    await seeded(db, runtime, date(2025, 12, 10), renewed=True)  # renewed already
    dead = await seeded(db, runtime, date(2025, 12, 10))
    async with db.writer() as session:
        (await session.get(Member, dead.member_id)).died_on = date(2026, 6, 1)  # sealed at rest
        await session.commit()

    with running_receiver() as receiver:
        await register(http, delivery, receiver.url)
        first = await announce_open_renewals(app.state.runtime)
        second = await announce_open_renewals(app.state.runtime)
        await run_jobs()

    assert (first, second) == (3, 0)  # due, renewed and dead dealt with, once; later waits
    [request] = receiver.received
    event = json.loads(request.body)
    assert event["type"] == "coverage.renewal_open"
    assert event["data"] == {
        "platform_worker_id": due.platform_worker_id,
        "plan_code": DEFAULT_PLAN_CODE,
        "starts_on": "2025-12-10",
        "ends_on": "2026-12-09",
    }
    async with db.reader() as session:
        waiting = (
            await session.scalars(
                select(CoveragePeriodRecord.member_id).where(
                    CoveragePeriodRecord.renewal_announced_at.is_(None),
                    CoveragePeriodRecord.ends_on < date(2027, 1, 1),
                )
            )
        ).all()
    assert waiting == [later.member_id]


def test_the_job_workers_announce_renewals_periodically():
    assert announce_open_renewals in [task.run for task in PERIODIC_TASKS]
