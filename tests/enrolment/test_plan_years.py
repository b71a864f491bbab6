"""Acceptance, over HTTP on both databases: two plan years, renewal grace and the waiting period.

Two versions are installed through `MUTUALAID_PLANS_DIR` (tests/support/plans.py): the shipped
one, ending 31 December 2026 (¥100 a hospital day, ¥72), and the next from 1 January 2027
(¥120 a day, ¥84). Two riders pay on 10 January 2026 for cover from 11 January 2026 to
10 January 2027, under the old version. The service's clock is moved for each step.

- Rider A renews on 20 January 2027, inside the 30 days' grace: the renewal is sold under the
  new version and continues cover from 21 January without a waiting period, so an illness stay
  from 25 January pays at ¥120 a night; a stay in the old period pays at ¥100; an accident on
  15 January, in the gap, is not covered.
- Rider B renews on 15 February 2027, after the grace: cover starts afresh on 16 February, and
  an illness on 1 March is inside the 30-day waiting period.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime, timedelta

import pytest

from app.core.clock import SHANGHAI
from tests.support.claims import claim, file
from tests.support.enrolment import GANSU, application, apply, close_app, make_enrol_app, worker
from tests.support.payments import notification, notify
from tests.support.plans import (
    NEXT_DAILY_RATE_FEN,
    NEXT_PREMIUM_FEN,
    NEXT_VERSION,
    SHIPPED_DAILY_RATE_FEN,
    SHIPPED_VERSION,
    shipped_book_after,
    two_versions,
)
from tests.support.rules import id_number
from tests.support.service import asgi_client

RIDER_B = id_number(date(1992, 2, 2), sequence="828")


def shanghai(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def at(app, settings, test_var_dir, db, slow_platform_url, tmp_path):
    """`async with at(day) as http:` the enrolment app with both versions, its clock at 10:00
    on `day`, and both riders active on demo-delivery an hour before."""
    directory = two_versions(tmp_path / "plans")

    @asynccontextmanager
    async def open_at(day: date) -> AsyncIterator[object]:
        moment = shanghai(day)
        recent = (moment - timedelta(hours=1)).isoformat()
        application_ = await make_enrol_app(
            settings,
            test_var_dir,
            db,
            now=moment,
            slow_url=slow_platform_url,
            register=False,
            workers=[
                worker("rider-a", GANSU, last_order_at=recent),
                worker("rider-b", RIDER_B, last_order_at=recent),
            ],
            MUTUALAID_PLANS_DIR=str(directory),
        )
        try:
            async with asgi_client(application_) as http:
                yield http
        finally:
            await close_app(application_)

    with shipped_book_after():
        yield open_at


async def buy(at, headers, day: date, body: dict) -> tuple[dict, dict]:
    """Apply and pay on `day`; the application and the order."""
    async with at(day) as http:
        applied = await apply(http, headers, body, key=f"{body['platform_worker_id']}-{day}")
        assert applied.status_code == 201, applied.text
        enrolment = applied.json()
        ordered = await http.post(
            f"/v1/enrolments/{enrolment['id']}/payment-orders",
            headers=headers | {"Idempotency-Key": f"order-{enrolment['id']}"},
        )
        order = ordered.json()
        paid = await notify(http, notification(order, paid_at=shanghai(day).isoformat()))
    assert paid.json()["outcome"] == "activated", paid.text
    return enrolment, order


def stay(member_id: str, kind: str, admitted: date, nights: int) -> dict:
    return claim(
        member_id,
        "hospital_allowance",
        kind,
        admitted,
        f"stay-{admitted}",
        admitted_on=admitted,
        discharged_on=admitted + timedelta(days=nights),
    )


async def decided(http, headers, body: dict) -> dict:
    response = await file(http, headers, body)
    assert response.status_code == 201, response.text
    return response.json()["decision"]


async def periods(http, headers, member_id: str) -> list[tuple[str, str, str, bool]]:
    response = await http.get(f"/v1/members/{member_id}/coverage", headers=headers)
    return [
        (p["plan_version"], p["starts_on"], p["ends_on"], p["continues_previous"])
        for p in response.json()["periods"]
    ]


async def test_two_plan_years_renewal_grace_and_the_waiting_period(at, citizen):
    rider_a = application(GANSU, "rider-a")
    rider_b = application(RIDER_B, "rider-b")
    first_a, _ = await buy(at, citizen, date(2026, 1, 10), rider_a)
    first_b, _ = await buy(at, citizen, date(2026, 1, 10), rider_b)
    a, b = first_a["member_id"], first_b["member_id"]

    renewal_a, order_a = await buy(at, citizen, date(2027, 1, 20), rider_a)  # 10 days late
    renewal_b, order_b = await buy(at, citizen, date(2027, 2, 15), rider_b)  # 36 days late

    async with at(date(2027, 4, 1)) as http:
        old_year = await decided(http, citizen, stay(a, "illness", date(2026, 6, 1), 3))
        new_year = await decided(http, citizen, stay(a, "illness", date(2027, 1, 25), 3))
        in_gap = await decided(
            http, citizen, claim(a, "accident_condolence", "accident", date(2027, 1, 15), "gap")
        )
        afresh = await decided(http, citizen, stay(b, "illness", date(2027, 3, 1), 3))
        periods_a = await periods(http, citizen, a)
        periods_b = await periods(http, citizen, b)

    # Both renewals are sold under the new version, at its premium.
    assert (renewal_a["plan_version"], order_a["amount_fen"]) == (NEXT_VERSION, NEXT_PREMIUM_FEN)
    assert (renewal_b["plan_version"], order_b["amount_fen"]) == (NEXT_VERSION, NEXT_PREMIUM_FEN)
    assert periods_a == [
        (SHIPPED_VERSION, "2026-01-11", "2027-01-10", False),
        (NEXT_VERSION, "2027-01-21", "2028-01-20", True),  # continued, from the day after paying
    ]
    assert periods_b == [
        (SHIPPED_VERSION, "2026-01-11", "2027-01-10", False),
        (NEXT_VERSION, "2027-02-16", "2028-02-15", False),  # afresh
    ]
    # Each claim is priced by the version of the period its event falls in.
    assert (old_year["outcome"], old_year["plan_version"], old_year["payable_fen"]) == (
        "approved",
        SHIPPED_VERSION,
        3 * SHIPPED_DAILY_RATE_FEN,
    )
    assert (new_year["outcome"], new_year["plan_version"], new_year["payable_fen"]) == (
        "approved",
        NEXT_VERSION,
        3 * NEXT_DAILY_RATE_FEN,
    )
    assert in_gap["outcome"] == "rejected"
    assert [r["code"] for r in in_gap["reasons"]] == ["no_active_coverage"]
    assert afresh["outcome"] == "rejected"
    assert [r["code"] for r in afresh["reasons"]] == ["waiting_period"]
