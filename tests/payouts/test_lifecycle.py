"""A payout's life over HTTP without a gateway: the gateway's notifications are sent by the
test. Accounts, the second approval, failure, return, reissue, and the ledger behind each step."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from app.core.policy import Role
from app.ledger.models import LedgerEntry
from app.ledger.service import unbalanced_entries
from app.payouts.models import PayoutInstruction
from tests.support.claims import ACCOUNT, claim, filed, notify_payout, review, set_account
from tests.support.clients import assert_problem
from tests.support.service import bearer


def paid_event(payout: dict, n: int, status: str = "succeeded", **changes) -> dict:
    return {
        "event_id": f"gw-{payout['id']}-{n}",
        "payout_id": payout["id"],
        "status": status,
        "amount_fen": payout["amount_fen"],
        "occurred_at": "2026-11-23T03:00:00+00:00",
        "channel": "bank",
    } | changes


async def fund(http, headers) -> dict:
    response = await http.get("/v1/reports/fund?from=2026-01-01&to=2030-12-31", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["fund"]


async def movements(db) -> list[str]:
    async with db.reader() as session:
        return list(
            (
                await session.scalars(select(LedgerEntry.movement).order_by(LedgerEntry.created_at))
            ).all()
        )


async def test_a_condolence_waits_for_an_account_then_is_paid(http, covered, citizen, db, api_key):
    finance = bearer(await api_key(Role.FINANCE))
    [rider] = await covered()
    decided = await filed(
        http, citizen, claim(rider, "accident_condolence", "accident", date(2026, 4, 1), "a")
    )
    payout = decided["payout"]
    assert payout["status"] == "awaiting_account"

    account = await set_account(http, citizen, rider)
    shown = (await http.get(f"/v1/payouts/{payout['id']}", headers=finance)).json()
    assert (shown["status"], shown["account_masked"]) == ("ready", "alipay ****5678 张*")
    assert ACCOUNT["account_no"] not in account.text + str(shown)
    paid = await notify_payout(http, paid_event(payout, 1))
    assert paid.json()["outcome"] == "paid"

    assert await movements(db) == [
        "benefit_approved",
        "transfer_instructed",
        "transfer_paid",
    ]
    assert await fund(http, finance) | {"fund_balance_fen": None} == {
        "premiums_received_fen": 0,
        "refunds_paid_fen": 0,
        "benefits_approved_fen": 50_000,
        "benefits_paid_fen": 50_000,
        "benefits_outstanding_fen": 0,
        "refunds_outstanding_fen": 0,
        "fund_balance_fen": None,
    }
    async with db.reader() as session:
        assert await unbalanced_entries(session) == 0


async def test_a_large_payout_needs_a_second_approval_from_someone_else(
    http, covered, citizen, examiner, db, api_key
):
    finance = bearer(await api_key(Role.FINANCE))
    [rider] = await covered()
    await set_account(http, citizen, rider)
    pending = await filed(
        http,
        citizen,
        claim(
            rider,
            "accidental_disability",
            "accident",
            date(2026, 5, 1),
            "big",
            assessed_on=date(2026, 6, 1),
            injuries=[{"grade": 1}],
        ),
    )
    decided = await review(
        http,
        examiner,
        pending["id"],
        decision="approve",
        facts={"assessed_on": "2026-06-01", "injuries": [{"grade": 1}]},
    )
    payout = decided["payout"]
    assert (payout["amount_fen"], payout["status"]) == (60_000_000, "awaiting_approval")

    by_decider = await http.post(f"/v1/payouts/{payout['id']}/approve", headers=examiner)
    assert_problem(by_decider, 409, "same_approver")
    approved = await http.post(f"/v1/payouts/{payout['id']}/approve", headers=finance)
    assert (approved.status_code, approved.json()["status"]) == (200, "ready")
    again = await http.post(f"/v1/payouts/{payout['id']}/approve", headers=finance)
    assert_problem(again, 409, "already_approved")
    async with db.reader() as session:
        assert await session.scalar(select(func.count()).select_from(PayoutInstruction)) == 1


async def test_failed_then_reissued_then_paid_then_returned(http, covered, citizen, db, api_key):
    finance = bearer(await api_key(Role.FINANCE))
    [rider] = await covered()
    await set_account(http, citizen, rider)
    payout = (
        await filed(
            http, citizen, claim(rider, "accident_condolence", "accident", date(2026, 4, 1), "f")
        )
    )["payout"]

    failed = await notify_payout(http, paid_event(payout, 1, "failed", reason="account_closed"))
    assert failed.json()["outcome"] == "failed_recorded"
    shown = (await http.get(f"/v1/payouts/{payout['id']}", headers=finance)).json()
    assert (shown["status"], shown["failure_reason"]) == ("failed", "account_closed")
    early = await http.post(
        f"/v1/payouts/{payout['id']}/approve", headers=finance
    )  # small: nothing to approve
    assert_problem(early, 409, "approval_not_needed")

    corrected = {"kind": "bank", "account_no": "6222000099998888", "holder_name": "张三"}
    reissued = await http.post(
        f"/v1/payouts/{payout['id']}/reissue",
        json={"payee_account": corrected},
        headers=finance,
    )
    assert (reissued.status_code, reissued.json()["status"]) == (200, "ready")
    assert reissued.json()["account_masked"] == "bank ****8888 张*"
    stale = await notify_payout(http, paid_event(payout, 2) | {"transfer_id": str(payout["id"])})
    assert stale.json()["outcome"] == "not_current"
    assert (await notify_payout(http, paid_event(payout, 3))).json()["outcome"] == "paid"
    returned = await notify_payout(http, paid_event(payout, 4, "returned", reason="bounced"))
    assert returned.json()["outcome"] == "returned_recorded"
    twice = await http.post(f"/v1/payouts/{payout['id']}/reissue", json={}, headers=finance)
    assert (twice.status_code, twice.json()["status"]) == (200, "ready")
    assert (await notify_payout(http, paid_event(payout, 5))).json()["outcome"] == "paid"

    figures = await fund(http, finance)
    assert (figures["benefits_approved_fen"], figures["benefits_paid_fen"]) == (50_000, 50_000)
    assert figures["benefits_outstanding_fen"] == 0
    assert figures["fund_balance_fen"] == -50_000  # no premium in this test: only the payout
    summary = await http.get(
        "/v1/reports/summary?from=2026-01-01&to=2030-12-31",
        headers=bearer(await api_key(Role.EXAMINER)),
    )
    condolence = next(c for c in summary.json()["claims"] if c["benefit"] == "accident_condolence")
    assert (condolence["paid"], condolence["paid_fen"]) == (1, 50_000)
    async with db.reader() as session:
        assert await unbalanced_entries(session) == 0
        assert await session.scalar(select(func.count()).select_from(PayoutInstruction)) == 3


async def test_a_returned_payout_is_not_counted_as_paid(http, covered, citizen, examiner):
    [rider] = await covered()
    await set_account(http, citizen, rider)
    payout = (
        await filed(
            http, citizen, claim(rider, "accident_condolence", "accident", date(2026, 4, 1), "r")
        )
    )["payout"]
    await notify_payout(http, paid_event(payout, 1))
    await notify_payout(http, paid_event(payout, 2, "returned", reason="bounced"))

    summary = await http.get("/v1/reports/summary?from=2026-01-01&to=2030-12-31", headers=examiner)
    condolence = next(c for c in summary.json()["claims"] if c["benefit"] == "accident_condolence")
    assert (condolence["paid"], condolence["paid_fen"]) == (0, 0)
    assert summary.json()["fund"]["benefits_paid_fen"] == 0
    assert summary.json()["fund"]["benefits_outstanding_fen"] == 50_000


async def test_the_payout_queue_pages_by_cursor_and_filters_by_status(
    http, covered, citizen, api_key
):
    finance = bearer(await api_key(Role.FINANCE))
    riders = await covered(3)
    for n, rider in enumerate(riders):
        await filed(
            http,
            citizen,
            claim(rider, "accident_condolence", "accident", date(2026, 4, 1), f"q{n}"),
        )
    await set_account(http, citizen, riders[0])

    first = (await http.get("/v1/payouts?limit=2", headers=finance)).json()
    second = (
        await http.get(f"/v1/payouts?limit=2&cursor={first['next_cursor']}", headers=finance)
    ).json()
    waiting = (await http.get("/v1/payouts?status=awaiting_account", headers=finance)).json()
    broken = await http.get("/v1/payouts?cursor=not-a-cursor", headers=finance)

    assert len(first["items"]) == 2
    assert (len(second["items"]), second["next_cursor"]) == (1, None)
    assert {p["member_id"] for p in first["items"] + second["items"]} == set(map(str, riders))
    assert {p["member_id"] for p in waiting["items"]} == {str(riders[1]), str(riders[2])}
    assert_problem(broken, 400, "invalid_cursor")


@pytest.mark.parametrize(
    "moment",
    [
        "2099-12-31T03:00:00+00:00",  # the future: the payout would be on no report
        "2026-11-24T17:00:00+00:00",  # the day after tomorrow in Shanghai (clock: 23 November)
        "2025-12-31T15:59:00+00:00",  # before the cover it pays under began (1 January 2026)
    ],
)
async def test_a_transfer_dated_outside_its_bounds_is_refused_and_pays_nothing(
    http, covered, citizen, api_key, db, moment
):
    """The same bounds as a premium's `paid_at`: not before what is paid for, not after
    tomorrow. Refused and recorded (422), the payout still waiting for a plausible word."""
    finance = bearer(await api_key(Role.FINANCE))
    [rider] = await covered()
    await set_account(http, citizen, rider)
    payout = (
        await filed(
            http, citizen, claim(rider, "accident_condolence", "accident", date(2026, 4, 1), "d")
        )
    )["payout"]

    refused = await notify_payout(http, paid_event(payout, 1, occurred_at=moment))
    tomorrow = await notify_payout(
        http, paid_event(payout, 2, occurred_at="2026-11-24T15:59:00+00:00")
    )

    assert_problem(refused, 422, "paid_at_out_of_range")
    assert tomorrow.json()["outcome"] == "paid"  # 23:59 on the 24th in Shanghai is tomorrow
    shown = (await http.get(f"/v1/payouts/{payout['id']}", headers=finance)).json()
    assert (shown["status"], shown["paid_at"][:10]) == ("paid", "2026-11-24")
    assert await movements(db) == ["benefit_approved", "transfer_instructed", "transfer_paid"]
