"""An application takes the plan version in force on the first day its cover would start, at that
version's premium; a payment never starts cover outside its version. Two made-up versions
(tests/support/plans.py): the shipped one ending 31 December 2026 (¥72), the next from
1 January 2027 (¥84). Both databases."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select

from app.core.clock import SHANGHAI
from app.coverage.models import CoveragePeriodRecord
from app.payments.models import Refund
from tests.support.clients import assert_problem
from tests.support.enrolment import application, apply, clients_at
from tests.support.payments import enrol_and_order, notification, notify
from tests.support.plans import (
    NEXT_PREMIUM_FEN,
    NEXT_VERSION,
    SHIPPED_VERSION,
    plans_dir,
    shipped_book_after,
    shipped_ending,
    two_versions,
)


def shanghai(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=SHANGHAI)


@pytest.fixture
def at(app, settings, test_var_dir, db, slow_platform_url, tmp_path):
    """`async with at(moment) as http:` the enrolment app at `moment`, with both versions."""
    directory = two_versions(tmp_path / "plans")
    with shipped_book_after():
        yield clients_at(
            settings, test_var_dir, db, slow_platform_url, MUTUALAID_PLANS_DIR=str(directory)
        )


async def periods(db) -> list[CoveragePeriodRecord]:
    async with db.reader() as session:
        rows = await session.scalars(
            select(CoveragePeriodRecord).order_by(CoveragePeriodRecord.starts_on)
        )
        return list(rows.all())


async def test_cover_starting_in_the_next_version_is_sold_under_it_at_its_premium(at, citizen, db):
    async with at(shanghai(date(2026, 12, 31))) as http:
        enrolment, order = await enrol_and_order(http, citizen)
        paid = await notify(http, notification(order, paid_at="2026-12-31T11:00:00+08:00"))

    assert enrolment["plan_version"] == NEXT_VERSION
    assert order["amount_fen"] == NEXT_PREMIUM_FEN
    assert paid.json()["outcome"] == "activated"
    [period] = await periods(db)
    assert (period.plan_version, period.starts_on) == (NEXT_VERSION, date(2027, 1, 1))


async def test_a_payment_too_late_for_its_version_is_refused_an_order_and_refunded(at, citizen, db):
    async with at(shanghai(date(2026, 12, 20))) as http:
        enrolment, order = await enrol_and_order(http, citizen)
    assert (enrolment["plan_version"], order["amount_fen"]) == (SHIPPED_VERSION, 7200)

    async with at(shanghai(date(2026, 12, 31))) as http:
        # Cover paid today would start on 1 January, after the version ends.
        again = await http.post(
            f"/v1/enrolments/{enrolment['id']}/payment-orders",
            headers=citizen | {"Idempotency-Key": "order-again"},
        )
        # The order already open is paid all the same.
        paid = await notify(http, notification(order, paid_at="2026-12-31T09:00:00+08:00"))

    assert_problem(again, 409, "enrolment_expired")
    assert paid.json()["outcome"] == "refund_due"
    assert await periods(db) == []
    async with db.reader() as session:
        [refund] = (await session.scalars(select(Refund))).all()
    assert (refund.amount_fen, refund.reason) == (7200, "paid_when_version_not_in_force")


async def test_a_renewal_takes_the_version_in_force_when_it_starts(at, citizen, db):
    async with at(shanghai(date(2026, 1, 10))) as http:
        _, order = await enrol_and_order(http, citizen)
        await notify(http, notification(order, paid_at="2026-01-10T11:00:00+08:00"))
    # Covered 11 January 2026 .. 10 January 2027; renewing in December starts on 11 January.
    async with at(shanghai(date(2026, 12, 20))) as http:
        renewal, order = await enrol_and_order(http, citizen)
        await notify(http, notification(order, paid_at="2026-12-20T11:00:00+08:00"))

    assert (renewal["plan_version"], order["amount_fen"]) == (NEXT_VERSION, NEXT_PREMIUM_FEN)
    first, second = await periods(db)
    assert (first.plan_version, first.ends_on) == (SHIPPED_VERSION, date(2027, 1, 10))
    assert (second.plan_version, second.starts_on) == (NEXT_VERSION, date(2027, 1, 11))
    assert second.continues_previous


async def test_no_version_in_force_when_cover_would_start_is_422(
    app, settings, test_var_dir, db, slow_platform_url, tmp_path, citizen
):
    directory = plans_dir(tmp_path / "plans", shipped=shipped_ending(date(2026, 12, 31)))
    with shipped_book_after():
        open_at = clients_at(
            settings, test_var_dir, db, slow_platform_url, MUTUALAID_PLANS_DIR=str(directory)
        )
        async with open_at(shanghai(date(2026, 12, 30))) as http:
            in_time = await apply(http, citizen, application())
        async with open_at(shanghai(date(2026, 12, 31))) as http:
            too_late = await apply(http, citizen, application(), key="too-late")

    assert in_time.status_code == 201
    assert_problem(too_late, 422, "plan_not_in_force")
