"""Premium payment and cover activation, on both databases.

The service's clock is fixed at 23 November 2026, 10:00 in Shanghai (tests/support/enrolment.py).
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import func, select

from app.coverage.models import CoveragePeriodRecord
from app.payments.models import PaymentOrder
from tests.support.clients import assert_problem
from tests.support.enrolment import TURNS_60_TOMORROW, application, apply
from tests.support.payments import enrol_and_order, notification, notify


async def periods(db) -> list[CoveragePeriodRecord]:
    async with db.reader() as session:
        return list((await session.scalars(select(CoveragePeriodRecord))).all())


async def test_the_order_is_for_the_plans_premium_and_reused_while_open(http, citizen):
    enrolment, order = await enrol_and_order(http, citizen)
    again = await http.post(
        f"/v1/enrolments/{enrolment['id']}/payment-orders",
        headers=citizen | {"Idempotency-Key": "another"},
    )

    assert order["amount_fen"] == 7200
    assert order["status"] == "open"
    assert again.status_code == 200
    assert again.json()["id"] == order["id"]


async def test_payment_activates_cover_from_the_next_shanghai_day(http, citizen, db, api_key):
    enrolment, order = await enrol_and_order(http, citizen)

    response = await notify(http, notification(order))

    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "activated"
    assert response.json()["coverage"] == {
        "starts_on": "2026-11-25",
        "ends_on": "2027-11-24",
        "continues_previous": False,
    }
    [period] = await periods(db)
    assert (str(period.starts_on), str(period.ends_on)) == ("2026-11-25", "2027-11-24")
    seen = await http.get(f"/v1/enrolments/{enrolment['id']}", headers=citizen)
    assert seen.json()["status"] == "paid"


async def test_the_same_notification_fifty_times_at_once_activates_one_period(http, citizen, db):
    _, order = await enrol_and_order(http, citizen)
    body = notification(order)

    responses = await asyncio.gather(*(notify(http, body) for _ in range(50)))

    outcomes = sorted(r.json()["outcome"] for r in responses)
    assert all(r.status_code == 200 for r in responses), {r.status_code for r in responses}
    assert outcomes.count("activated") == 1
    assert outcomes.count("duplicate") == 49
    assert len(await periods(db)) == 1


async def test_two_events_for_one_order_pay_it_once(http, citizen, db):
    _, order = await enrol_and_order(http, citizen)

    first, second = await asyncio.gather(
        notify(http, notification(order)), notify(http, notification(order))
    )

    assert sorted([first.json()["outcome"], second.json()["outcome"]]) == [
        "activated",
        "already_paid",
    ]
    assert len(await periods(db)) == 1


@pytest.mark.parametrize(
    ("tamper", "status", "code"),
    [
        ({"secret": b"not-the-gateway"}, 401, "invalid_signature"),
        ({"offset": -301}, 401, "stale_signature"),
        ({"offset": +301}, 401, "stale_signature"),
        ({"signature": "t=1,v1="}, 401, "invalid_signature"),
        ({"signature": ""}, 401, "invalid_signature"),
        ({"signature": ("t=²,v1=" + "a" * 64).encode("latin-1")}, 401, "invalid_signature"),
        ({"signature": "t=" + "9" * 400 + ",v1=" + "a" * 64}, 401, "invalid_signature"),
        ({"signature": "t=" + "9" * 5000 + ",v1=" + "a" * 64}, 401, "invalid_signature"),
    ],
)
async def test_forged_or_stale_notifications_change_nothing(
    http, citizen, db, tamper, status, code
):
    _, order = await enrol_and_order(http, citizen)

    response = await notify(http, notification(order), **tamper)

    assert_problem(response, status, code)
    assert await periods(db) == []
    async with db.reader() as session:
        assert (await session.get(PaymentOrder, uuid.UUID(order["id"]))).status == "open"


async def test_a_wrong_amount_is_refused_and_changes_nothing(http, citizen, db):
    _, order = await enrol_and_order(http, citizen)

    response = await notify(http, notification(order, amount_fen=720))

    assert_problem(response, 422, "amount_mismatch")
    assert await periods(db) == []


async def test_a_failed_payment_leaves_the_order_open_for_a_retry(http, citizen, db):
    _, order = await enrol_and_order(http, citizen)

    failed = await notify(http, notification(order, status="failed"))
    later = await notify(http, notification(order))

    assert failed.json()["outcome"] == "failed_recorded"
    assert later.json()["outcome"] == "activated"
    async with db.reader() as session:
        stored = await session.get(PaymentOrder, uuid.UUID(order["id"]))
    assert (stored.status, stored.failed_attempts) == ("paid", 1)


async def test_a_rotated_secret_is_accepted_alongside_the_new_one(app, http, citizen):
    _, order = await enrol_and_order(http, citizen)
    settings = app.state.settings
    app.state.settings = settings.model_copy(
        update={
            "payment_notification_secrets": [
                *settings.payment_notification_secrets,
                type(settings.payment_notification_secrets[0])("next-secret"),
            ]
        }
    )
    try:
        response = await notify(http, notification(order), secret=b"next-secret")
    finally:
        app.state.settings = settings

    assert response.json()["outcome"] == "activated"


async def test_a_second_enrolment_while_covered_is_409(http, citizen):
    _, order = await enrol_and_order(http, citizen)
    await notify(http, notification(order))

    again = await apply(http, citizen, application(), key="second-share")

    assert_problem(again, 409, "already_enrolled")


async def test_sixty_on_the_first_day_of_cover_means_a_refund_not_cover(http, citizen, db):
    # Applied the day before the 60th birthday; paid the same day: cover would start on it.
    enrolment, order = await enrol_and_order(
        http, citizen, application(TURNS_60_TOMORROW, "rider-59")
    )

    response = await notify(http, notification(order, paid_at="2026-11-23T03:00:00+00:00"))

    assert response.json()["outcome"] == "refund_due"
    assert await periods(db) == []
    seen = await http.get(f"/v1/enrolments/{enrolment['id']}", headers=citizen)
    assert seen.json()["status"] == "refund_due"
    async with db.reader() as session:
        paid = await session.scalar(
            select(func.count()).select_from(PaymentOrder).where(PaymentOrder.status == "paid")
        )
    assert paid == 1
