"""Deaths and what platforms hear of them (today: 23 November 2026)."""

from __future__ import annotations

import json
import uuid
from datetime import date

from sqlalchemy import select

from app.clients.models import ApiClient
from app.core.policy import Role
from app.coverage.endings import sweep_ended_periods
from app.demo.cover import Seed, add_paid_period
from app.plans import DEFAULT_PLAN_CODE, in_force
from tests.support.claims import claim, file, review
from tests.support.payments import enrol_and_order, notification, notify
from tests.support.receiver import running_receiver
from tests.support.service import bearer
from tests.support.webhooks import register, seeded

PLAN = in_force(DEFAULT_PLAN_CODE, date(2026, 1, 1))


def events(receiver) -> list[dict]:
    return [json.loads(r.body) for r in receiver.received]


async def approved_death(http, citizen, examiner, member_id, died_on: date) -> None:
    response = await file(
        http,
        citizen,
        claim(
            member_id, "illness_death", "illness", died_on, f"heart-{member_id}", died_on=died_on
        ),
    )
    assert response.status_code == 201, response.text
    filed = response.json()
    if filed["status"] != "approved":
        await review(http, examiner, filed["id"], decision="approve")


async def test_a_death_recorded_after_the_renewal_started_still_ends_cover_for_the_platform(
    http, citizen, delivery, api_key, db, runtime, run_jobs, app
):
    """Period A (1 Aug 2025 - 31 Jul 2026) is continued by B (1 Aug 2026 - 31 Jul 2027), so
    A's end was dealt with on 1 August without an event. The worker died on 20 July 2026, in A,
    and the claim is decided today: the platform, told of B, must hear that cover ended."""
    examiner = bearer(await api_key(Role.EXAMINER, None, "examiner"))
    member = await seeded(db, runtime, date(2025, 8, 1), renewed=True)
    with running_receiver() as receiver:
        await register(http, delivery, receiver.url)
        await sweep_ended_periods(app.state.runtime)  # what the worker did on 1 August
        await approved_death(http, citizen, examiner, member.member_id, date(2026, 7, 20))
        await sweep_ended_periods(app.state.runtime)
        await run_jobs()
        coverage = await http.get(
            f"/v1/platform/workers/{member.platform_worker_id}/coverage", headers=delivery
        )

    assert coverage.json()["covered"] is False  # the query knows cover has ended
    assert [e["type"] for e in events(receiver)] == ["coverage.ended"]


async def test_a_premium_paid_after_a_death_buys_no_cover_and_announces_nothing(
    http, citizen, delivery, api_key, db, runtime, run_jobs
):
    """A renewal left awaiting payment is paid after the member's death was recorded: no
    period, no `coverage.activated`, and the premium is due back."""
    examiner = bearer(await api_key(Role.EXAMINER, None, "examiner"))
    enrolment, order = await enrol_and_order(http, citizen)
    member_id = uuid.UUID(enrolment["member_id"])
    async with db.writer() as session:  # the member's current cover, paid earlier
        await add_paid_period(
            session,
            runtime.cipher,
            Seed(
                PLAN,
                date(2026, 1, 1),
                await session.scalar(select(ApiClient.id).limit(1)),
                "demo-delivery",
            ),
            member_id,
            "rider-gansu",
        )
        await session.commit()
    await approved_death(http, citizen, examiner, member_id, date(2026, 8, 1))

    with running_receiver() as receiver:
        await register(http, delivery, receiver.url)
        paid = await notify(http, notification(order))
        await run_jobs()
        coverage = await http.get("/v1/platform/workers/rider-gansu/coverage", headers=delivery)

    assert paid.status_code == 200, paid.text
    after = await http.get(f"/v1/enrolments/{enrolment['id']}", headers=citizen)
    assert after.json()["status"] == "refund_due"  # a death ends cover for good
    assert coverage.json()["covered"] is False
    assert coverage.json()["starts_on"] is None  # the query: no cover now or to come
    # The events must not contradict it: either nothing, or an activation followed by an end.
    kinds = [e["type"] for e in events(receiver)]
    assert kinds in ([], ["coverage.activated", "coverage.ended"]), kinds
