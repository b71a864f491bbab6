"""Filing rules around the arithmetic: refusals on cover, duplicates, documents, quotes,
idempotency, payouts, who sees what, and bad input. Both databases."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from app.claims.models import Claim, ClaimDecision
from app.core.policy import Role
from app.coverage.models import PeriodUsage
from app.payouts.models import Payout
from tests.support.claims import (
    claim,
    coverage,
    documents,
    file,
    filed,
    notify_payout,
    review,
    set_account,
    used,
)
from tests.support.clients import assert_problem
from tests.support.service import bearer

D = date


def reasons(decided: dict) -> list[str]:
    return [r["code"] for r in decided["decision"]["reasons"]]


async def count(db, model) -> int:
    async with db.reader() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def test_refusals_on_cover_name_their_reason(http, covered, citizen):
    [rider] = await covered()
    [old] = await covered(starts_on=D(2024, 1, 1))  # covered 2024 only
    before_cover = await filed(
        http, citizen, claim(rider, "accident_condolence", "accident", D(2025, 12, 31), "a")
    )
    assert (before_cover["status"], reasons(before_cover)) == ("rejected", ["no_active_coverage"])
    waiting = await filed(
        http,
        citizen,
        claim(
            rider,
            "critical_illness",
            "illness",
            D(2026, 1, 20),
            "b",
            diagnosed_on=D(2026, 1, 20),
            disease="covid_19",
            severity="severe",
        ),
    )
    assert (waiting["status"], reasons(waiting)) == ("rejected", ["waiting_period"])
    # Discharged 10 June 2024: the two years ran out on 10 June 2026.
    late = await filed(
        http,
        citizen,
        claim(
            old,
            "hospital_allowance",
            "accident",
            D(2024, 6, 1),
            "c",
            admitted_on=D(2024, 6, 1),
            discharged_on=D(2024, 6, 10),
        ),
    )
    assert (late["status"], reasons(late)) == ("rejected", ["claim_deadline_passed"])
    # A disability claim refused on cover does not wait for an examiner.
    uncovered = await filed(
        http,
        citizen,
        claim(
            rider,
            "accidental_disability",
            "accident",
            D(2025, 6, 1),
            "d",
            assessed_on=D(2025, 9, 1),
            injuries=[{"grade": 3}],
        ),
    )
    assert (uncovered["status"], reasons(uncovered)) == ("rejected", ["no_active_coverage"])


async def test_a_duplicate_claim_is_refused_and_pays_once(http, covered, citizen, db):
    [rider] = await covered()
    body = claim(rider, "accident_condolence", "accident", D(2026, 4, 1), "same")
    first = await filed(http, citizen, body)
    second = await filed(http, citizen, body)  # a new key: a new filing, not a retry
    assert first["status"] == "approved"
    assert (second["status"], reasons(second)) == ("rejected", ["duplicate_claim"])
    assert await count(db, Payout) == 1
    assert used(await coverage(http, citizen, rider), "accident_condolence") == 50_000


async def test_missing_documents_wait_and_the_last_one_decides(http, covered, citizen, db):
    [rider] = await covered()
    body = claim(rider, "accident_condolence", "accident", D(2026, 4, 1), "slip")
    body["documents"] = documents("id_proof")
    waiting = await filed(http, citizen, body)
    assert waiting["status"] == "pending_documents"
    assert waiting["missing_documents"] == ["accident_proof", "medical_record"]
    assert waiting["decision"] is None
    assert await count(db, PeriodUsage) == 0
    response = await http.post(
        f"/v1/claims/{waiting['id']}/documents",
        json={"documents": documents("accident_proof")},
        headers=citizen,
    )
    assert (response.json()["status"], response.json()["missing_documents"]) == (
        "pending_documents",
        ["medical_record"],
    )
    response = await http.post(
        f"/v1/claims/{waiting['id']}/documents",
        json={"documents": documents("medical_record")},
        headers=citizen,
    )
    decided = response.json()
    assert (decided["status"], decided["decision"]["payable_fen"]) == ("approved", 50_000)
    assert len(decided["documents"]) == 3
    again = await http.post(
        f"/v1/claims/{waiting['id']}/documents",
        json={"documents": documents("medical_record")},
        headers=citizen,
    )
    assert_problem(again, 409, "claim_decided")


async def test_a_quote_decides_without_storing_anything(http, covered, citizen, db):
    [rider] = await covered()
    body = claim(
        rider,
        "hospital_allowance",
        "illness",
        D(2026, 6, 1),
        "flu",
        admitted_on=D(2026, 6, 1),
        discharged_on=D(2026, 6, 4),
    )
    response = await http.post("/v1/claims/quote", json=body, headers=citizen)
    assert response.status_code == 200, response.text
    quote = response.json()
    assert (quote["status"], quote["decision"]["payable_fen"]) == ("approved", 30_000)
    assert quote["decision"]["decided_by"] is None
    assert await count(db, Claim) == 0
    assert await count(db, PeriodUsage) == 0
    assert used(await coverage(http, citizen, rider), "hospital_allowance") == 0


async def test_a_retried_filing_replays_and_pays_once(http, covered, citizen, db):
    [rider] = await covered()
    body = claim(rider, "accident_condolence", "accident", D(2026, 4, 1), "retry")
    first = await file(http, citizen, body, key="claim-retry-1")
    again = await file(http, citizen, body, key="claim-retry-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert first.headers["location"] == f"/v1/claims/{first.json()['id']}"
    assert await count(db, Claim) == 1
    missing_key = await http.post("/v1/claims", json=body, headers=citizen)
    assert missing_key.status_code == 422


async def test_a_payout_is_marked_paid_by_a_signed_notification(http, covered, citizen, db):
    [rider] = await covered()
    decided = await filed(
        http, citizen, claim(rider, "accident_condolence", "accident", D(2026, 4, 1), "pay")
    )
    payout = decided["payout"]
    assert (payout["status"], payout["amount_fen"], payout["payee_kind"]) == (
        "awaiting_account",
        50_000,
        "member",
    )
    account = await set_account(http, citizen, rider)
    assert (account.status_code, account.json()["payouts_released"]) == (200, 1)
    assert account.json()["account_masked"] == "alipay ****5678 张*"
    event = {
        "event_id": "payout-evt-1",
        "payout_id": payout["id"],
        "status": "succeeded",
        "amount_fen": 50_000,
        "paid_at": "2026-11-23T03:00:00+00:00",
        "channel": "union_card",
    }
    wrong = await notify_payout(http, event | {"event_id": "payout-evt-0", "amount_fen": 5_000})
    assert_problem(wrong, 422, "amount_mismatch")
    forged = await notify_payout(http, event, secret="not-the-secret")
    assert_problem(forged, 401, "invalid_signature")
    paid = await notify_payout(http, event)
    assert (paid.status_code, paid.json()["outcome"]) == (200, "paid")
    replay = await notify_payout(http, event)
    assert replay.json()["outcome"] == "duplicate"
    second = await notify_payout(http, event | {"event_id": "payout-evt-2"})
    assert second.json()["outcome"] == "already_paid"
    shown = (await http.get(f"/v1/claims/{decided['id']}", headers=citizen)).json()
    assert shown["payout"]["status"] == "paid"
    assert shown["payout"]["paid_at"] == "2026-11-23T03:00:00Z"
    assert [h["action"] for h in shown["history"]][-1] == "payout_already_paid"


async def test_a_death_benefit_names_its_payee(http, covered, citizen, examiner):
    [member] = await covered()
    body = claim(member, "illness_death", "illness", D(2026, 7, 1), "x", died_on=D(2026, 7, 1))
    del body["beneficiary"]
    assert_problem(await file(http, citizen, body), 422, "beneficiary_required")
    body["beneficiary"] = {"name": "马大龙", "id_number": "110105194912310021"}
    assert_problem(await file(http, citizen, body), 422, "invalid_id_number")
    body["beneficiary"]["id_number"] = "11010519491231002X"
    pending = await filed(http, citizen, body)
    decided = await review(http, examiner, pending["id"], decision="approve")
    assert decided["payout"]["payee_kind"] == "beneficiary"
    assert decided["payout"]["beneficiary_name_masked"] == "马**"
    assert "11010519491231002X" not in str(decided)


async def test_examiner_rejection_and_review_conflicts(http, covered, citizen, examiner, db):
    [rider] = await covered()
    pending = await filed(
        http,
        citizen,
        claim(
            rider,
            "accidental_disability",
            "accident",
            D(2026, 5, 5),
            "fall",
            assessed_on=D(2026, 9, 1),
            injuries=[{"grade": 8}],
        ),
    )
    no_reason = await http.post(
        f"/v1/claims/{pending['id']}/review", json={"decision": "reject"}, headers=examiner
    )
    assert_problem(no_reason, 422, "reason_required")
    refused = await review(
        http, examiner, pending["id"], decision="reject", reason="the certificate is unsigned"
    )
    assert (refused["status"], reasons(refused)) == ("rejected", ["rejected_on_review"])
    assert refused["decision"]["decided_by"] == "examiner"
    again = await http.post(
        f"/v1/claims/{pending['id']}/review",
        json={"decision": "reject", "reason": "x"},
        headers=examiner,
    )
    assert_problem(again, 409, "claim_not_pending_review")
    # Refused claims release their facts: the corrected filing is not a duplicate.
    refiled = await filed(
        http,
        citizen,
        claim(
            rider,
            "accidental_disability",
            "accident",
            D(2026, 5, 5),
            "fall",
            assessed_on=D(2026, 9, 1),
            injuries=[{"grade": 8}],
        ),
    )
    assert refiled["status"] == "pending_review"
    queue = await http.get("/v1/claims", params={"status": "pending_review"}, headers=examiner)
    assert [c["id"] for c in queue.json()["claims"]] == [refiled["id"]]
    forbidden = await http.post(
        f"/v1/claims/{refiled['id']}/review", json={"decision": "approve"}, headers=citizen
    )
    assert_problem(forbidden, 403, "forbidden")


async def test_filers_see_their_own_claims_and_nobody_else_does(http, covered, examiner, api_key):
    [theirs] = await covered(union="huangpu")
    [others] = await covered(union="jingan")
    huangpu = bearer(await api_key(Role.UNION, "huangpu", "huangpu"))
    jingan = bearer(await api_key(Role.UNION, "jingan", "jingan"))
    platform = bearer(await api_key(Role.PLATFORM, "demo-delivery", "platform"))
    other_app = bearer(await api_key(Role.CITIZEN_APP, None, "another-app"))
    by_union = await filed(
        http, huangpu, claim(theirs, "accident_condolence", "accident", D(2026, 4, 1), "u")
    )
    assert by_union["status"] == "approved"
    # A union files only for its own members; another union's member is not found.
    refused = await file(
        http, huangpu, claim(others, "accident_condolence", "accident", D(2026, 4, 1), "v")
    )
    assert_problem(refused, 404, "member_not_found")
    path = f"/v1/claims/{by_union['id']}"
    assert (await http.get(path, headers=huangpu)).status_code == 200
    assert (await http.get(path, headers=examiner)).status_code == 200
    assert_problem(await http.get(path, headers=jingan), 404, "claim_not_found")
    assert_problem(await http.get(path, headers=other_app), 404, "claim_not_found")
    assert_problem(await http.get(path, headers=platform), 403, "forbidden")
    assert (await http.get("/v1/claims", headers=jingan)).json()["claims"] == []
    listed = await http.get("/v1/claims", params={"member_id": str(theirs)}, headers=huangpu)
    assert [c["id"] for c in listed.json()["claims"]] == [by_union["id"]]
    assert_problem(
        await http.post(
            "/v1/claims/quote",
            json=claim(theirs, "accident_condolence", "accident", D(2026, 4, 1), "w"),
            headers=platform,
        ),
        403,
        "forbidden",
    )


async def test_facts_that_do_not_fit_the_benefit_are_422_and_store_nothing(
    http, covered, citizen, db
):
    [rider] = await covered()
    missing = claim(
        rider, "hospital_allowance", "accident", D(2026, 4, 1), "m", admitted_on=D(2026, 4, 1)
    )
    body = assert_problem(await file(http, citizen, missing), 422, "invalid_facts")
    assert body["errors"][0]["field"] == "facts.discharged_on"
    extra = claim(
        rider, "accident_condolence", "accident", D(2026, 4, 1), "e", died_on=D(2026, 4, 1)
    )
    body = assert_problem(await file(http, citizen, extra), 422, "invalid_facts")
    assert [(e["code"], e["field"]) for e in body["errors"]] == [("not_expected", "facts.died_on")]
    backwards = claim(
        rider,
        "hospital_allowance",
        "accident",
        D(2026, 4, 1),
        "b",
        admitted_on=D(2026, 4, 5),
        discharged_on=D(2026, 4, 1),
    )
    assert_problem(await file(http, citizen, backwards), 422, "invalid_facts")
    before_event = claim(
        rider,
        "hospital_allowance",
        "accident",
        D(2026, 4, 10),
        "p",
        admitted_on=D(2026, 4, 5),
        discharged_on=D(2026, 4, 8),
    )
    assert_problem(await file(http, citizen, before_event), 422, "invalid_facts")
    unknown = claim(rider, "accident_condolence", "accident", D(2026, 4, 1), "u")
    unknown["member_id"] = "00000000-0000-4000-8000-000000000000"
    assert_problem(await file(http, citizen, unknown), 404, "member_not_found")
    assert await count(db, Claim) == 0
    assert await count(db, ClaimDecision) == 0
