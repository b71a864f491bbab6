"""A claim's whole life over HTTP: withdrawn by its filer while pending, expired when its
documents never come, and appealed once after a refusal, which an examiner then decides for
good. Today is 2026-11-23 (tests/support/claims.py); the plan's documents_due_days is 90 and
appeal_days 60."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, timedelta

import pytest
from sqlalchemy import func, select

from app.claims.expiry import expire_overdue_claims
from app.core.policy import Role
from app.payouts.models import Payout
from tests.support.claims import NOW, claim, coverage, documents, file, filed, review, used
from tests.support.service import bearer

D = date


def later(runtime, monkeypatch, days: int) -> None:
    """Move the service's clock (the API's and the workers') `days` after NOW."""
    monkeypatch.setattr(runtime.clock, "_fixed", (NOW + timedelta(days=days)).astimezone(UTC))


def waiting(rider, ref: str = "slip") -> dict:
    """A condolence claim filed without its documents: it waits for them."""
    return claim(rider, "accident_condolence", "accident", D(2026, 11, 1), ref) | {"documents": []}


def disability(rider) -> dict:
    return claim(
        rider,
        "accidental_disability",
        "accident",
        D(2026, 7, 1),
        "crash",
        assessed_on=D(2026, 9, 1),
        injuries=[{"grade": 10}],
    )


async def history(http, headers, claim_id) -> list[tuple[str, str | None]]:
    shown = (await http.get(f"/v1/claims/{claim_id}", headers=headers)).json()
    return [(h["action"], h["to_status"]) for h in shown["history"]]


@pytest.fixture
async def app_b(api_key):
    return bearer(await api_key(Role.CITIZEN_APP, None, "another app"))


async def test_the_filer_withdraws_a_pending_claim(http, covered, citizen, examiner, app_b):
    [rider] = await covered()
    pending = await filed(http, citizen, waiting(rider))
    assert pending["status"] == "pending_documents"

    other = await http.post(f"/v1/claims/{pending['id']}/withdraw", headers=app_b)
    by_examiner = await http.post(f"/v1/claims/{pending['id']}/withdraw", headers=examiner)
    withdrawn = await http.post(f"/v1/claims/{pending['id']}/withdraw", headers=citizen)
    again = await http.post(f"/v1/claims/{pending['id']}/withdraw", headers=citizen)
    refiled = await filed(http, citizen, waiting(rider))

    assert (other.status_code, by_examiner.status_code) == (404, 404)
    assert withdrawn.status_code == 200
    assert (withdrawn.json()["status"], withdrawn.json()["decision"]) == ("withdrawn", None)
    assert (again.status_code, again.json()["code"]) == (409, "claim_not_pending")
    assert refiled["status"] == "pending_documents"  # not a duplicate of a withdrawn claim
    assert await history(http, citizen, pending["id"]) == [
        ("filed", "pending_documents"),
        ("withdrawn", "withdrawn"),
    ]


# An examiner who filed a claim for a member is that claim's filer.
async def test_an_examiner_withdraws_a_claim_it_filed(http, covered, examiner):
    [rider] = await covered()
    pending = await filed(http, examiner, waiting(rider, "desk"))

    withdrawn = await http.post(f"/v1/claims/{pending['id']}/withdraw", headers=examiner)

    assert (withdrawn.status_code, withdrawn.json()["status"]) == (200, "withdrawn")


async def test_a_claim_left_without_its_documents_expires(
    http, covered, citizen, runtime, monkeypatch, db
):
    [rider] = await covered()
    pending = await filed(http, citizen, waiting(rider))

    later(runtime, monkeypatch, 90)
    on_the_last_day = await expire_overdue_claims(runtime)
    later(runtime, monkeypatch, 91)
    after_it = await expire_overdue_claims(runtime)
    once_more = await expire_overdue_claims(runtime)
    added = await http.post(
        f"/v1/claims/{pending['id']}/documents",
        json={"documents": documents("accident_proof")},
        headers=citizen,
    )
    refiled = await file(http, citizen, waiting(rider))

    assert (on_the_last_day, after_it, once_more) == (0, 1, 0)
    assert (added.status_code, added.json()["code"]) == (409, "claim_decided")
    assert await history(http, citizen, pending["id"]) == [
        ("filed", "pending_documents"),
        ("expired", "expired"),
    ]
    assert (refiled.status_code, refiled.json()["status"]) == (201, "pending_documents")
    async with db.reader() as session:
        assert await session.scalar(select(func.count()).select_from(Payout)) == 0


async def test_an_appeal_the_examiner_approves_pays_once_and_counts_against_the_caps(
    http, covered, citizen, examiner, app_b, db
):
    [rider] = await covered()
    first = await filed(http, citizen, disability(rider))
    refused = await review(http, examiner, first["id"], decision="reject", reason="no proof")
    assert refused["status"] == "rejected"

    other = await http.post(
        f"/v1/claims/{first['id']}/appeal", json={"grounds": "x"}, headers=app_b
    )
    by_examiner = await http.post(
        f"/v1/claims/{first['id']}/appeal", json={"grounds": "x"}, headers=examiner
    )
    appealed = await http.post(
        f"/v1/claims/{first['id']}/appeal",
        json={"grounds": "the hospital's certificate was attached"},
        headers=citizen,
    )
    queue = (await http.get("/v1/claims?status=pending_review", headers=examiner)).json()["claims"]
    approved = await review(http, examiner, first["id"], decision="approve")
    twice = await http.post(
        f"/v1/claims/{first['id']}/review", json={"decision": "approve"}, headers=examiner
    )
    second_appeal = await http.post(
        f"/v1/claims/{first['id']}/appeal", json={"grounds": "again"}, headers=citizen
    )

    assert (other.status_code, by_examiner.status_code) == (404, 404)
    assert appealed.status_code == 200, appealed.text
    shown = appealed.json()
    assert (shown["status"], shown["decision"]) == ("pending_review", None)
    assert shown["appeal"]["grounds"] == "the hospital's certificate was attached"
    assert shown["appeal"]["first_decision"]["outcome"] == "rejected"
    assert [r["code"] for r in shown["appeal"]["first_decision"]["reasons"]] == [
        "rejected_on_review"
    ]
    assert [c["id"] for c in queue] == [first["id"]]
    # Grade 10: 10% of 600,000 yuan.
    assert (approved["status"], approved["decision"]["payable_fen"]) == ("approved", 6_000_000)
    assert approved["appeal"]["first_decision"]["outcome"] == "rejected"
    assert approved["payout"]["amount_fen"] == 6_000_000
    assert (twice.status_code, twice.json()["code"]) == (409, "claim_not_pending_review")
    assert (second_appeal.status_code, second_appeal.json()["code"]) == (409, "appeal_used")
    period = await coverage(http, citizen, rider)
    assert used(period, "accidental_disability") == 6_000_000
    assert await history(http, citizen, first["id"]) == [
        ("filed", "pending_review"),
        ("rejected", "rejected"),
        ("appealed", "pending_review"),
        ("approved", "approved"),
    ]
    async with db.reader() as session:
        payouts = await session.scalar(select(func.count()).select_from(Payout))
    assert payouts == 1


async def test_an_appeal_is_taken_for_60_days_after_the_refusal(
    http, covered, citizen, examiner, runtime, monkeypatch
):
    [rider, other] = await covered(2)
    on_time = await filed(http, citizen, disability(rider))
    too_late = await filed(http, citizen, disability(other))
    for claim_id in (on_time["id"], too_late["id"]):
        await review(http, examiner, claim_id, decision="reject", reason="no proof")

    later(runtime, monkeypatch, 60)
    last_day = await http.post(
        f"/v1/claims/{on_time['id']}/appeal", json={"grounds": "g"}, headers=citizen
    )
    later(runtime, monkeypatch, 61)
    closed = await http.post(
        f"/v1/claims/{too_late['id']}/appeal", json={"grounds": "g"}, headers=citizen
    )

    assert last_day.status_code == 200
    assert (closed.status_code, closed.json()["code"]) == (409, "appeal_window_closed")
    assert "2027-01-22" in closed.json()["detail"]


# Appealing what is not a refusal, or a refusal whose facts were filed again and are pending.
async def test_only_a_refusal_not_refiled_is_appealed(http, covered, citizen, examiner):
    [rider] = await covered()
    pending = await filed(http, citizen, waiting(rider))
    first = await filed(http, citizen, disability(rider))
    await review(http, examiner, first["id"], decision="reject", reason="no proof")
    await filed(http, citizen, disability(rider))  # the same facts again, pending review

    not_refused = await http.post(
        f"/v1/claims/{pending['id']}/appeal", json={"grounds": "g"}, headers=citizen
    )
    refiled = await http.post(
        f"/v1/claims/{first['id']}/appeal", json={"grounds": "g"}, headers=citizen
    )
    empty = await http.post(
        f"/v1/claims/{first['id']}/appeal", json={"grounds": ""}, headers=citizen
    )

    assert (not_refused.status_code, not_refused.json()["code"]) == (409, "claim_not_rejected")
    assert (refiled.status_code, refiled.json()["code"]) == (409, "duplicate_claim")
    assert empty.status_code == 422


# The same appeal sent five times at once is taken once; five approvals of it at once pay once.
@pytest.mark.only_backend("postgresql")
async def test_concurrent_appeals_and_approvals_pay_once(http, covered, citizen, examiner, db):
    [rider] = await covered()
    first = await filed(http, citizen, disability(rider))
    await review(http, examiner, first["id"], decision="reject", reason="no proof")
    url = f"/v1/claims/{first['id']}"

    appeals = await asyncio.gather(
        *(http.post(f"{url}/appeal", json={"grounds": "g"}, headers=citizen) for _ in range(5))
    )
    approvals = await asyncio.gather(
        *(
            http.post(f"{url}/review", json={"decision": "approve"}, headers=examiner)
            for _ in range(5)
        )
    )

    assert sorted(r.status_code for r in appeals) == [200, 409, 409, 409, 409]
    assert {r.json()["code"] for r in appeals if r.status_code == 409} == {"appeal_used"}
    assert sorted(r.status_code for r in approvals) == [200, 409, 409, 409, 409]
    async with db.reader() as session:
        assert await session.scalar(select(func.sum(Payout.amount_fen))) == 6_000_000


# A withdrawal racing an examiner's decision: one of them wins, never both.
@pytest.mark.only_backend("postgresql")
async def test_a_withdrawal_racing_a_review_leaves_one_outcome(
    http, covered, citizen, examiner, db
):
    [rider] = await covered()
    pending = await filed(http, citizen, disability(rider))
    url = f"/v1/claims/{pending['id']}"

    withdrawn, reviewed = await asyncio.gather(
        http.post(f"{url}/withdraw", headers=citizen),
        http.post(f"{url}/review", json={"decision": "approve"}, headers=examiner),
    )

    assert sorted([withdrawn.status_code, reviewed.status_code]) == [200, 409]
    final = (await http.get(url, headers=citizen)).json()["status"]
    async with db.reader() as session:
        payouts = await session.scalar(select(func.count()).select_from(Payout))
    assert (final, payouts) in {("withdrawn", 0), ("approved", 1)}
