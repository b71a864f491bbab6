"""Coverage events reach a real HTTP receiver, signed, at least once, retried until it answers."""

from __future__ import annotations

import json
import time
from datetime import date

import pytest
from sqlalchemy import select

from app.core.policy import Role
from app.core.signing import verify
from app.coverage.endings import sweep_ended_periods
from app.coverage.models import CoveragePeriodRecord
from app.jobs.models import Job, JobStatus
from app.plans import DEFAULT_PLAN_CODE
from app.webhooks.models import DeliveryStatus
from tests.support.claims import claim, filed, review
from tests.support.enrolment import GANSU
from tests.support.receiver import running_receiver
from tests.support.service import bearer
from tests.support.webhooks import TEST_SETTINGS, deliveries, pay_for_cover, register, seeded


def event_of(request) -> dict:
    return json.loads(request.body)


async def test_paid_cover_is_announced_to_the_platform_signed_and_without_identity(
    http, citizen, delivery, db, run_jobs
):
    with running_receiver() as receiver:
        endpoint = await register(http, delivery, receiver.url)
        await pay_for_cover(http, citizen)
        await run_jobs()

    [request] = receiver.received
    async with db.reader() as session:
        period = (await session.scalars(select(CoveragePeriodRecord))).one()
    body = event_of(request)
    assert request.path == "/hooks/mutualaid"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-event-type"] == "coverage.activated"
    assert request.headers["x-event-id"] == body["id"]
    verify(request.headers["x-signature"], request.body, [endpoint["secret"].encode()], time.time())
    assert body["type"] == "coverage.activated"
    assert body["data"] == {
        "platform_worker_id": "rider-gansu",
        "plan_code": DEFAULT_PLAN_CODE,
        "starts_on": period.starts_on.isoformat(),
        "ends_on": period.ends_on.isoformat(),
    }
    for personal in (GANSU, GANSU[-4:], "马小龙", "13812345678", str(period.member_id)):
        assert personal not in request.body.decode()
    [(stored, _)] = await deliveries(db)
    assert (stored.status, stored.attempts, stored.last_status_code) == ("delivered", 1, 200)


async def test_a_receiver_failing_twice_gets_the_same_event_once_it_recovers(
    http, citizen, delivery, db, run_jobs
):
    with running_receiver(500, 503) as receiver:
        await register(http, delivery, receiver.url)
        await pay_for_cover(http, citizen)
        await run_jobs()
        again = await run_jobs()

    assert [r.headers["x-delivery-attempt"] for r in receiver.received] == ["1", "2", "3"]
    assert len({r.headers["x-event-id"] for r in receiver.received}) == 1
    assert len({r.body for r in receiver.received}) == 1
    assert again == 0
    [(stored, event)] = await deliveries(db)
    assert str(event.id) == receiver.received[0].headers["x-event-id"]
    assert (stored.status, stored.attempts, stored.last_status_code) == ("delivered", 3, 200)
    async with db.reader() as session:
        jobs = (await session.scalars(select(Job))).all()
    assert {job.status for job in jobs} == {JobStatus.DONE.value}


@pytest.mark.parametrize(
    "webhook_settings",
    # A retry window of about 0.1 s, so that the test sees it close.
    [TEST_SETTINGS | {"MUTUALAID_WEBHOOK_RETRY_HOURS": "0.00003"}],
)
async def test_a_receiver_that_never_recovers_is_given_up_when_the_window_closes(
    http, citizen, delivery, db, run_jobs
):
    with running_receiver(*[500] * 1000) as receiver:
        await register(http, delivery, receiver.url)
        await pay_for_cover(http, citizen)
        await run_jobs(limit=1000)

    [(stored, _)] = await deliveries(db)
    assert stored.status == DeliveryStatus.FAILED.value
    assert stored.attempts == len(receiver.received) >= 1
    assert stored.last_status_code == 500
    assert len({r.headers["x-event-id"] for r in receiver.received}) == 1


async def test_a_removed_endpoint_gets_nothing_more(http, citizen, delivery, db, run_jobs):
    with running_receiver() as receiver:
        endpoint = await register(http, delivery, receiver.url)
        await pay_for_cover(http, citizen)
        removed = await http.delete(f"/v1/platform/webhooks/{endpoint['id']}", headers=delivery)
        await run_jobs()

    assert removed.status_code == 204
    assert receiver.received == []
    [(stored, _)] = await deliveries(db)
    assert stored.status == DeliveryStatus.CANCELLED.value


async def test_other_platforms_hear_nothing_of_a_worker_not_theirs(
    http, citizen, api_key, db, run_jobs
):
    other = bearer(await api_key(Role.PLATFORM, "slow-delivery", "slow-api"))
    with running_receiver() as receiver:
        await register(http, other, receiver.url)
        await pay_for_cover(http, citizen)
        await run_jobs()

    assert receiver.received == []
    assert await deliveries(db) == []


async def test_after_a_rotation_both_secrets_sign_until_the_overlap_ends(
    http, citizen, delivery, run_jobs
):
    with running_receiver() as receiver:
        endpoint = await register(http, delivery, receiver.url)
        rotated = await http.post(
            f"/v1/platform/webhooks/{endpoint['id']}/secret", headers=delivery
        )
        await pay_for_cover(http, citizen)
        await run_jobs()

    assert rotated.status_code == 200
    assert rotated.json()["secret"] != endpoint["secret"]
    assert rotated.json()["secret_rotated_until"] is not None
    [request] = receiver.received
    header = request.headers["x-signature"]
    assert header.count("v1=") == 2
    for secret in (endpoint["secret"], rotated.json()["secret"]):
        verify(header, request.body, [secret.encode()], time.time())


async def test_ends_of_cover_are_announced_once_and_a_continued_period_not_at_all(
    http, delivery, db, runtime, run_jobs, app
):
    ended = await seeded(db, runtime, date(2025, 1, 1))
    await seeded(db, runtime, date(2025, 1, 1), renewed=True)
    await seeded(db, runtime, date(2026, 1, 1))  # still running on 23 November 2026
    with running_receiver() as receiver:
        await register(http, delivery, receiver.url)
        first = await sweep_ended_periods(app.state.runtime)
        second = await sweep_ended_periods(app.state.runtime)
        await run_jobs()

    assert (first, second) == (2, 0)  # both 2025 periods dealt with, once
    [request] = receiver.received
    assert event_of(request)["type"] == "coverage.ended"
    assert event_of(request)["data"] == {
        "platform_worker_id": ended.platform_worker_id,
        "plan_code": DEFAULT_PLAN_CODE,
        "starts_on": "2025-01-01",
        "ends_on": "2025-12-31",
    }


async def test_a_death_ends_cover_on_its_date_and_the_sweep_does_not_repeat_it(
    http, citizen, delivery, api_key, db, runtime, run_jobs, app
):
    examiner = bearer(await api_key(Role.EXAMINER, None, "examiner"))
    member = await seeded(db, runtime, date(2026, 1, 1), renewed=True)
    with running_receiver() as receiver:
        await register(http, delivery, receiver.url)
        death = await filed(
            http,
            citizen,
            claim(
                member.member_id,
                "illness_death",
                "illness",
                date(2026, 8, 1),
                "heart",
                died_on=date(2026, 8, 1),
            ),
        )
        await review(http, examiner, death["id"], decision="approve")
        swept = await sweep_ended_periods(app.state.runtime)
        await run_jobs()
        coverage = await http.get(
            f"/v1/platform/workers/{member.platform_worker_id}/coverage", headers=delivery
        )

    assert swept == 0
    [request] = receiver.received
    assert event_of(request)["type"] == "coverage.ended"
    assert event_of(request)["data"]["ends_on"] == "2026-08-01"
    assert event_of(request)["data"]["starts_on"] == "2026-01-01"
    assert "death" not in request.body.decode()
    assert coverage.json()["covered"] is False
    assert coverage.json()["ends_on"] is None
