"""The examiners' summary: what was enrolled, covered, claimed, approved and paid, per benefit,
for a range of Shanghai days."""

from __future__ import annotations

from datetime import date

from app.core.policy import Role
from app.members.models import Member
from tests.support.claims import claim, filed, notify_payout, set_account
from tests.support.clients import assert_problem
from tests.support.service import bearer


async def summary(http, headers, first: str, last: str):
    return await http.get(f"/v1/reports/summary?from={first}&to={last}", headers=headers)


def figures(body: dict, benefit: str) -> dict:
    return next(entry for entry in body["claims"] if entry["benefit"] == benefit)


async def test_claims_approvals_and_payments_per_benefit(http, covered, citizen, examiner, runtime):
    rider, other, dead = await covered(3)
    first = await filed(
        http, citizen, claim(rider, "accident_condolence", "accident", date(2026, 4, 1), "a")
    )
    await filed(
        http, citizen, claim(other, "accident_condolence", "accident", date(2026, 5, 1), "b")
    )
    refused = await filed(
        http, citizen, claim(rider, "accident_condolence", "accident", date(2020, 1, 1), "old")
    )
    assert refused["status"] == "rejected"
    assert (await set_account(http, citizen, rider)).status_code == 200
    paid = await notify_payout(
        http,
        {
            "event_id": "report-evt-1",
            "payout_id": first["payout"]["id"],
            "status": "succeeded",
            "amount_fen": 50_000,
            # 23:30 UTC on the 22nd is the 23rd in Shanghai.
            "paid_at": "2026-11-22T23:30:00+00:00",
            "channel": "union_card",
        },
    )
    assert paid.status_code == 200, paid.text
    async with runtime.db.writer() as session:
        (await session.get(Member, dead)).died_on = date(2026, 11, 1)  # sealed at rest
        await session.commit()

    response = await summary(http, examiner, "2026-11-23", "2026-11-23")

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["from"], body["to"]) == ("2026-11-23", "2026-11-23")
    assert [entry["benefit"] for entry in body["claims"]] == [
        "hospital_allowance",
        "critical_illness",
        "critical_illness_medical",
        "illness_death",
        "accidental_death",
        "accidental_disability",
        "accident_condolence",
    ]
    condolence = figures(body, "accident_condolence")
    assert condolence | {"approved": None, "approved_fen": None} == {
        "benefit": "accident_condolence",
        "filed": 3,
        "by_status": {"approved": 2, "rejected": 1},
        "approved": None,
        "approved_fen": None,
        "paid": 1,
        "paid_fen": 50_000,
    }
    assert figures(body, "hospital_allowance")["filed"] == 0
    assert body["paid_fen"] == 50_000
    # Three members covered since 1 January; one died on 1 November.
    assert body["cover"] == {"active_on": "2026-11-23", "active": 2, "started": 0}

    # Approvals count on the day they were decided, by the real clock (the service's clock is
    # set for this test): a range from the 23rd on holds them.
    onwards = (await summary(http, examiner, "2026-11-23", "2036-11-21")).json()
    assert figures(onwards, "accident_condolence")["approved"] == 2
    assert (onwards["approved_fen"], onwards["paid_fen"]) == (100_000, 50_000)

    year = (await summary(http, examiner, "2026-01-01", "2026-12-31")).json()
    assert year["cover"]["started"] == 3
    # The day before: nothing filed, approved or paid yet (Shanghai days, not UTC).
    before = (await summary(http, examiner, "2026-11-22", "2026-11-22")).json()
    assert (before["approved_fen"], before["paid_fen"]) == (0, 0)
    assert figures(before, "accident_condolence")["filed"] == 0


async def test_enrolments_are_counted_by_status_and_channel(http, examiner):
    body = (await summary(http, examiner, "2000-01-01", "2009-12-31")).json()
    assert body["enrolments"] == {"applied": 0, "by_status": {}, "by_channel": {}}
    assert body["cover"]["active"] == 0


async def test_a_backwards_or_endless_range_is_refused(http, examiner):
    assert_problem(
        await summary(http, examiner, "2026-02-01", "2026-01-31"), 422, "invalid_date_range"
    )
    assert_problem(
        await summary(http, examiner, "2000-01-01", "2099-12-31"), 422, "invalid_date_range"
    )
    # Year 1 in Shanghai is before year 1 in UTC: once a server error.
    assert_problem(
        await summary(http, examiner, "0001-01-01", "0001-01-01"), 422, "invalid_date_range"
    )
    response = await summary(http, examiner, "0", "2026-01-01")
    assert response.status_code == 422


async def test_only_examiners_read_the_summary(http, citizen, api_key):
    assert_problem(await summary(http, citizen, "2026-01-01", "2026-01-31"), 403, "forbidden")
    platform = bearer(await api_key(Role.PLATFORM, "demo-delivery"))
    assert_problem(await summary(http, platform, "2026-01-01", "2026-01-31"), 403, "forbidden")
    assert_problem(await summary(http, {}, "2026-01-01", "2026-01-31"), 401, "unauthorized")
