"""The age limit during a period (`eligibility.cover_continues_past_age_limit`), over HTTP on both
databases. A rider born 15 March 1967 (60 on 15 March 2027) pays on 24 November 2026 (Shanghai)
for cover from 25 November.

- The shipped plan (true): cover runs to its end, 24 November 2027, past the birthday. A rider
  born 20 November 1967, covered alike, is 59 in the renewal window but 60 on 25 November 2027,
  when a renewal would start: it is refused at application.
- A made-up plan otherwise the same (false, tests/support/plans.py): cover ends on 14 March 2027,
  the day before the birthday; a claim for later is refused `age_limit_reached`, and the
  platform sees cover ending then.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime

import pytest

from app.core.clock import SHANGHAI
from tests.support.claims import claim, file
from tests.support.clients import assert_problem
from tests.support.enrolment import application, apply, close_app, make_enrol_app, worker
from tests.support.payments import enrol_and_order, notification, notify
from tests.support.plans import SHIPPED_TEXT, edited, plans_dir, shipped_book_after
from tests.support.rules import id_number
from tests.support.service import asgi_client

SIXTY_ON_15_MARCH_2027 = id_number(date(1967, 3, 15), sequence="615")
SIXTY_ON_20_NOVEMBER_2027 = id_number(date(1967, 11, 20), sequence="716")
ENDING_PLAN = "age-limit-ends-cover"


def shanghai(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def at(app, settings, test_var_dir, db, slow_platform_url, tmp_path):
    """`async with at(moment) as http:` the enrolment app at `moment`, with the plan that ends
    cover at the age limit installed beside the shipped one, and the rider on demo-delivery."""
    directory = plans_dir(
        tmp_path / "plans",
        ending=edited(
            SHIPPED_TEXT,
            ('code = "shanghai-new-employment-e"', f'code = "{ENDING_PLAN}"'),
            (
                "cover_continues_past_age_limit = { value = true",
                "cover_continues_past_age_limit = { value = false",
            ),
        ),
    )

    @asynccontextmanager
    async def open_at(moment: datetime) -> AsyncIterator[object]:
        application_ = await make_enrol_app(
            settings,
            test_var_dir,
            db,
            now=moment,
            slow_url=slow_platform_url,
            register=False,
            workers=[
                worker("rider-old", SIXTY_ON_15_MARCH_2027, last_order_at=moment.isoformat()),
                worker("rider-nov", SIXTY_ON_20_NOVEMBER_2027, last_order_at=moment.isoformat()),
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


def rider(**changes) -> dict:
    return application(SIXTY_ON_15_MARCH_2027, "rider-old", **changes)


async def condolence(http, headers, member_id, on: date) -> dict:
    response = await file(
        http, headers, claim(member_id, "accident_condolence", "accident", on, f"fall-{on}")
    )
    assert response.status_code == 201, response.text
    return response.json()["decision"]


async def test_cover_continues_past_60_to_the_periods_end_and_no_renewal_is_sold(
    at, citizen, delivery
):
    november = application(SIXTY_ON_20_NOVEMBER_2027, "rider-nov")
    async with at(shanghai(date(2026, 11, 23))) as http:
        enrolment, order = await enrol_and_order(http, citizen, rider())
        await notify(http, notification(order))
        _, other_order = await enrol_and_order(http, citizen, november)
        await notify(http, notification(other_order))
    member_id = enrolment["member_id"]

    async with at(shanghai(date(2027, 4, 1))) as http:
        after_birthday = await condolence(http, citizen, member_id, date(2027, 3, 20))
        seen = await http.get("/v1/platform/workers/rider-old/coverage", headers=delivery)
    async with at(shanghai(date(2027, 11, 10))) as http:  # the renewal window is open
        renewal = await apply(http, citizen, november, key="renewal")

    assert (after_birthday["outcome"], after_birthday["payable_fen"]) == ("approved", 50_000)
    assert (seen.json()["covered"], seen.json()["ends_on"]) == (True, "2027-11-24")
    # The renewal would start on 25 November 2027, after the 60th birthday.
    assert_problem(renewal, 422, "age_limit")


async def test_cover_ends_the_day_before_60_where_the_plan_says_so(at, citizen, delivery):
    async with at(shanghai(date(2026, 11, 23))) as http:
        enrolment, order = await enrol_and_order(http, citizen, rider(plan_code=ENDING_PLAN))
        await notify(http, notification(order))
        view = await http.get(f"/v1/members/{enrolment['member_id']}/coverage", headers=citizen)
    member_id = enrolment["member_id"]

    async with at(shanghai(date(2027, 3, 14))) as http:
        last_day = await http.get("/v1/platform/workers/rider-old/coverage", headers=delivery)
    async with at(shanghai(date(2027, 3, 15))) as http:
        birthday = await http.get("/v1/platform/workers/rider-old/coverage", headers=delivery)
    async with at(shanghai(date(2027, 4, 1))) as http:
        before = await condolence(http, citizen, member_id, date(2027, 3, 14))
        after = await condolence(http, citizen, member_id, date(2027, 3, 15))

    [period] = view.json()["periods"]
    assert (period["plan_code"], period["starts_on"], period["ends_on"]) == (
        ENDING_PLAN,
        "2026-11-25",
        "2027-03-14",
    )
    assert (last_day.json()["covered"], last_day.json()["ends_on"]) == (True, "2027-03-14")
    assert birthday.json()["covered"] is False
    assert (before["outcome"], before["payable_fen"]) == ("approved", 50_000)
    assert after["outcome"] == "rejected"
    assert [r["code"] for r in after["reasons"]] == ["age_limit_reached"]
