"""District unions over HTTP, on both databases: a worker who joins through the app names the
district of the work and becomes a member of that district's union, which alone sees them in
its member list and its summary (design section 10)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from app.core.clock import SHANGHAI
from app.enrolment.models import Enrolment
from app.members.models import Member
from tests.support.claims import claim, filed, notify_payout, set_account
from tests.support.clients import assert_problem
from tests.support.enrolment import GANSU, application, apply
from tests.support.payments import enrol_and_order, notification, notify

XUHUI = "310104"  # 徐汇区
PUDONG = "310115"  # 浦东新区
# The summaries' ranges: the application (23 November 2026) and the claim (15 January 2027);
# the wide one also holds the approval, which counts on its day by the real clock.
FIRST, LAST, FAR = "2026-11-01", "2027-01-31", "2036-10-31"


async def union_members(http, headers, **params) -> dict:
    response = await http.get("/v1/union/members", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def union_summary(http, headers, last: str = LAST) -> dict:
    params = {"from": FIRST, "to": last}
    response = await http.get("/v1/reports/union-summary", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def benefit(summary: dict, code: str) -> dict:
    return next(entry for entry in summary["claims"] if entry["benefit"] == code)


async def test_an_app_applicant_who_joins_in_xuhui_is_xuhuis_member_and_no_one_elses(
    http, citizen, xuhui, pudong, client_at
):
    enrolment, order = await enrol_and_order(http, citizen, application(work_district=XUHUI))
    # Paid at 11:00 on 23 November in Shanghai: cover 24 November 2026 .. 23 November 2027.
    await notify(http, notification(order, paid_at="2026-11-23T03:00:00+00:00"))
    member_id = enrolment["member_id"]
    assert enrolment["work_district"] == XUHUI

    listed = await union_members(http, xuhui)
    elsewhere = await union_members(http, pudong)

    assert listed["union_org_code"] == "SH-XUHUI"
    assert listed["members"] == [
        {
            "member_id": member_id,
            "id_number_masked": GANSU[:6] + "********" + GANSU[-4:],
            "name_masked": "马**",
            "union_member_number": None,
            "joined_on": "2026-11-23",
            "cover": "upcoming",
            "cover_starts_on": "2026-11-24",
            "cover_ends_on": "2027-11-23",
        }
    ]
    assert listed["next_cursor"] is None
    assert (elsewhere["union_org_code"], elsewhere["members"]) == ("SH-PUDONG", [])

    # 15 January 2027: cover is in force, and the member's condolence claim is paid.
    async with client_at(datetime(2027, 1, 15, 10, 0, tzinfo=SHANGHAI)) as later:
        in_force = await union_members(later, xuhui)
        decided = await filed(
            later,
            citizen,
            claim(member_id, "accident_condolence", "accident", date(2027, 1, 5), "fall-1"),
        )
        assert (await set_account(later, citizen, member_id)).status_code == 200
        paid = await notify_payout(
            later,
            {
                "event_id": "union-evt-1",
                "payout_id": decided["payout"]["id"],
                "status": "succeeded",
                "amount_fen": 50_000,
                "paid_at": "2027-01-16T02:00:00+00:00",
                "channel": "union_card",
            },
        )
        assert paid.status_code == 200, paid.text
        ours = await union_summary(later, xuhui)
        theirs = await union_summary(later, pudong, FAR)
        claimed = await union_summary(later, xuhui, FAR)

    assert [(m["member_id"], m["cover"]) for m in in_force["members"]] == [(member_id, "active")]
    assert ours["union_org_code"] == "SH-XUHUI"
    assert ours["members"] == 1
    assert ours["enrolments"] == {
        "individual": {"accepted": 1, "paid": 1},
        "batch": {"accepted": 0, "paid": 0},
    }
    assert ours["cover"] == {"active_on": "2027-01-31", "active": 1, "started": 1}
    assert benefit(claimed, "accident_condolence") == {
        "benefit": "accident_condolence",
        "filed": 1,
        "by_status": {"approved": 1},
        "approved": 1,
        "approved_fen": 50_000,
        "paid": 1,
        "paid_fen": 50_000,
    }
    assert (claimed["approved_fen"], claimed["paid_fen"]) == (50_000, 50_000)
    assert benefit(ours, "accident_condolence")["filed"] == 1
    assert ours["premiums"] == {"invoices_paid": 0, "paid_fen": 0, "refunded_fen": 0}
    # Pudong's union sees none of it.
    assert theirs["union_org_code"] == "SH-PUDONG"
    assert theirs["members"] == 0
    assert theirs["enrolments"] == {
        "individual": {"accepted": 0, "paid": 0},
        "batch": {"accepted": 0, "paid": 0},
    }
    assert theirs["cover"]["started"] == 0
    assert all(
        entry["filed"] == entry["approved"] == entry["paid"] == 0 for entry in theirs["claims"]
    )
    assert (theirs["approved_fen"], theirs["paid_fen"]) == (0, 0)


async def test_joining_needs_one_of_shanghais_sixteen_districts(http, citizen, db):
    missing = application()
    del missing["work_district"]
    responses = {
        "work_district_required": await apply(http, citizen, missing, key="missing"),
        "work_district_unknown": await apply(
            http, citizen, application(work_district="310199"), key="unknown"
        ),
    }
    by_name = await apply(http, citizen, application(work_district="徐汇区"), key="by-name")

    for code, response in responses.items():
        problem = assert_problem(response, 422, code)
        assert [(e["code"], e["field"]) for e in problem["errors"]] == [(code, "work_district")]
    assert_problem(by_name, 422, "work_district_unknown")
    async with db.reader() as session:
        assert (await session.scalars(select(Member))).all() == []


async def test_a_union_member_number_binds_no_union_until_the_worker_joins(
    http, citizen, xuhui, client_at, db
):
    """A member who gave a union number belongs to no district union here; when they later
    join through the app (a renewal), the district they name binds them."""
    numbered = application(union={"member_number": "XH-0001"})
    del numbered["work_district"]
    enrolment, order = await enrol_and_order(http, citizen, numbered)
    await notify(http, notification(order, paid_at="2026-11-23T03:00:00+00:00"))
    before = await union_members(http, xuhui)

    # In the renewal window, joining in Xuhui.
    async with client_at(datetime(2027, 11, 10, 9, 0, tzinfo=SHANGHAI)) as later:
        renewal = await apply(later, citizen, application(work_district=XUHUI), key="renewal")
        after = await union_members(later, xuhui)

    assert renewal.status_code == 201, renewal.text
    assert before["members"] == []
    assert [m["member_id"] for m in after["members"]] == [enrolment["member_id"]]
    assert after["members"][0]["union_member_number"] == "XH-0001"
    async with db.reader() as session:
        districts = (await session.scalars(select(Enrolment.work_district))).all()
    assert sorted(districts, key=lambda d: d or "") == [None, XUHUI]


async def test_a_member_bound_to_a_union_keeps_it(http, citizen, xuhui, pudong, client_at):
    enrolment, order = await enrol_and_order(http, citizen, application(work_district=XUHUI))
    await notify(http, notification(order, paid_at="2026-11-23T03:00:00+00:00"))

    async with client_at(datetime(2027, 11, 10, 9, 0, tzinfo=SHANGHAI)) as later:
        renewal = await apply(later, citizen, application(work_district=PUDONG), key="renewal")
        ours = await union_members(later, xuhui)
        theirs = await union_members(later, pudong)

    assert renewal.status_code == 201, renewal.text
    assert renewal.json()["work_district"] == PUDONG  # what the applicant said, kept
    assert [m["member_id"] for m in ours["members"]] == [enrolment["member_id"]]
    assert theirs["members"] == []
