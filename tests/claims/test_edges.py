"""Edges of filing and deciding: dates at the calendar's ends, deaths that pay nothing, one
accident across a renewal, odd input on every body, and small races on PostgreSQL."""

from __future__ import annotations

import asyncio
import base64
import uuid
from datetime import date

import pytest
from sqlalchemy import func, select

from app.payouts.models import Payout
from tests.support.claims import claim, documents, file, filed, notify_payout, review

D = date


def codes(decided: dict) -> list[str]:
    return [r["code"] for r in decided["decision"]["reasons"]]


# A date near the end of the calendar is refused before any date arithmetic overflows.
async def test_far_future_event_date_is_not_a_500(http, covered, citizen):
    [rider] = await covered()
    body = claim(rider, "accident_condolence", "accident", D(9999, 12, 31), "far")
    response = await file(http, citizen, body)
    assert (response.status_code, response.json()["code"]) == (422, "date_in_future")
    quote = await http.post("/v1/claims/quote", json=body, headers=citizen)
    assert (quote.status_code, quote.json()["code"]) == (422, "date_in_future")


# Only what has happened can be claimed: a future accident or stay is a 422.
async def test_an_event_in_the_future_is_not_paid(http, covered, citizen, db):
    [rider] = await covered()  # today is 2026-11-23 (conftest NOW)
    accident = await file(
        http, citizen, claim(rider, "accident_condolence", "accident", D(2026, 12, 20), "future")
    )
    assert accident.json()["errors"][0] == {
        "code": "date_in_future",
        "field": "event.occurred_on",
        "location": "body",
        "message": "event.occurred_on is after today (2026-11-23)",
    }
    stay = await file(
        http,
        citizen,
        claim(
            rider,
            "hospital_allowance",
            "illness",
            D(2026, 11, 20),
            "future-stay",
            admitted_on=D(2026, 11, 20),
            discharged_on=D(2026, 12, 31),
        ),
    )
    assert (stay.status_code, stay.json()["errors"][0]["field"]) == (422, "facts.discharged_on")
    async with db.reader() as session:
        assert await session.scalar(select(func.count()).select_from(Payout)) == 0


# A death the examiner accepts ends cover even when it pays nothing (disability paid it all).
async def test_a_death_that_pays_nothing_still_ends_cover(http, covered, citizen, examiner):
    [rider] = await covered()
    disability = await filed(
        http,
        citizen,
        claim(
            rider,
            "accidental_disability",
            "accident",
            D(2026, 6, 6),
            "crash",
            assessed_on=D(2026, 8, 1),
            injuries=[{"grade": 1}],
        ),
    )
    await review(http, examiner, disability["id"], decision="approve")  # 60,000,000 fen
    death = await filed(
        http,
        citizen,
        claim(rider, "accidental_death", "accident", D(2026, 6, 6), "crash", died_on=D(2026, 9, 1)),
    )
    death = await review(http, examiner, death["id"], decision="approve")
    assert death["decision"]["payable_fen"] == 0  # the examiner accepted the death
    late = await filed(
        http, citizen, claim(rider, "accident_condolence", "accident", D(2026, 9, 5), "later")
    )
    view = (await http.get(f"/v1/members/{rider}/coverage", headers=citizen)).json()
    assert codes(late) == ["cover_ended_by_death"], late["decision"]
    assert (view["died_on"], view["covered_today"]) == ("2026-09-01", False)


# The same stay, disease and cost under another filer's reference is a duplicate.
async def test_the_same_stay_is_not_subsidised_twice(http, covered, citizen, db):
    [rider] = await covered()
    facts = dict(
        admitted_on=D(2026, 6, 1),
        discharged_on=D(2026, 6, 10),
        disease="malignant_tumour",
        eligible_cost_fen=1_000_000,
    )
    first = await filed(
        http,
        citizen,
        claim(rider, "critical_illness_medical", "illness", D(2026, 6, 1), "app-1", **facts),
    )
    second = await filed(
        http,
        citizen,
        claim(rider, "critical_illness_medical", "illness", D(2026, 6, 1), "centre-77", **facts),
    )
    assert first["status"] == "approved"
    assert second["status"] == "rejected", second["decision"]


# The move from pending_documents to pending_review is in the claim's history.
async def test_history_shows_the_move_to_review(http, covered, citizen):
    [rider] = await covered()
    body = claim(
        rider,
        "accidental_disability",
        "accident",
        D(2026, 5, 5),
        "h",
        assessed_on=D(2026, 9, 1),
        injuries=[{"grade": 8}],
    )
    body["documents"] = documents("id_proof")
    waiting = await filed(http, citizen, body)
    assert waiting["status"] == "pending_documents"
    moved = await http.post(
        f"/v1/claims/{waiting['id']}/documents",
        json={"documents": documents("disability_certificate", "accident_proof")},
        headers=citizen,
    )
    assert moved.json()["status"] == "pending_review"
    shown = (await http.get(f"/v1/claims/{waiting['id']}", headers=citizen)).json()
    assert [h["to_status"] for h in shown["history"]][-1] == "pending_review", shown["history"]


# Odd input on the payout notification is a 4xx, never a 500.
async def test_payout_notification_odd_input_is_not_a_500(http, covered, citizen):
    [rider] = await covered()
    decided = await filed(
        http, citizen, claim(rider, "accident_condolence", "accident", D(2026, 4, 1), "n")
    )
    event = {
        "event_id": "evt-odd",
        "payout_id": decided["payout"]["id"],
        "status": "succeeded",
        "amount_fen": 50_000,
        "paid_at": "2026-11-23T03:00:00+00:00",
        "channel": "union_card",
    }
    bad = {
        "huge amount": {"amount_fen": 10**20, "event_id": "evt-huge"},
        "year 1 +01:00": {"paid_at": "0001-01-01T00:00:00+01:00", "event_id": "evt-y1"},
        "NUL in channel": {"channel": "card\u0000", "event_id": "evt-nul"},
    }
    statuses = {
        name: (await notify_payout(http, event | change)).status_code
        for name, change in bad.items()
    }
    assert statuses == {"huge amount": 422, "year 1 +01:00": 422, "NUL in channel": 422}


# A cursor holding a moment that cannot be converted to UTC is a 400.
async def test_odd_cursor_is_not_a_500(http, examiner):
    raw = f"0001-01-01T00:00:00+01:00|{uuid.uuid4()}".encode()
    cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    response = await http.get("/v1/claims", params={"cursor": cursor}, headers=examiner)
    assert response.status_code == 400, response.text


# NUL characters in stored free text are refused (PostgreSQL text cannot hold them).
async def test_nul_in_free_text_is_not_a_500(http, covered, citizen, examiner):
    [rider] = await covered()
    death = claim(rider, "illness_death", "illness", D(2026, 7, 1), "nul", died_on=D(2026, 7, 1))
    death["beneficiary"]["name"] = "\u0000马"
    response = await file(http, citizen, death)
    assert response.status_code == 422, response.text


# Many connections of one process: the condolence cap holds and nothing fails.
@pytest.mark.only_backend("postgresql")
async def test_concurrent_condolences_hold_the_cap(http, covered, citizen, db):
    [rider] = await covered()
    responses = await asyncio.gather(
        *(
            file(
                http,
                citizen,
                claim(rider, "accident_condolence", "accident", D(2026, 3, 1 + n), f"c{n}"),
            )
            for n in range(16)
        )
    )
    assert {r.status_code for r in responses} == {201}, [r.text for r in responses]
    async with db.reader() as session:
        total = await session.scalar(select(func.sum(Payout.amount_fen)))
    assert total == 600_000


# NUL in an examiner's refusal reason is refused too.
async def test_nul_in_review_reason_is_not_a_500(http, covered, citizen, examiner):
    [rider] = await covered()
    pending = await filed(
        http,
        citizen,
        claim(
            rider,
            "accidental_disability",
            "accident",
            D(2026, 5, 5),
            "nul3",
            assessed_on=D(2026, 9, 1),
            injuries=[{"grade": 8}],
        ),
    )
    refused = await http.post(
        f"/v1/claims/{pending['id']}/review",
        json={"decision": "reject", "reason": "unsigned\u0000"},
        headers=examiner,
    )
    assert refused.status_code == 422, refused.text


async def test_nul_in_disease_is_not_a_500(http, covered, citizen):
    [rider] = await covered()
    response = await file(
        http,
        citizen,
        claim(
            rider,
            "critical_illness",
            "illness",
            D(2026, 6, 1),
            "nul4",
            diagnosed_on=D(2026, 6, 1),
            disease="covid_19\u0000",
            severity="severe",
        ),
    )
    assert response.status_code == 422, response.text


# A stay running to the year 9997 is refused on its date, before any day is counted: counting
# 2.9 million days would hold the request far past the generous bound below.
async def test_absurd_stay_is_refused_before_counting(http, covered, citizen):
    [rider] = await covered()
    response = await asyncio.wait_for(
        http.post(
            "/v1/claims/quote",
            json=claim(
                rider,
                "hospital_allowance",
                "illness",
                D(2026, 6, 1),
                "long",
                admitted_on=D(2026, 6, 1),
                discharged_on=D(9997, 12, 31),
            ),
            headers=citizen,
        ),
        timeout=20,
    )
    assert (response.status_code, response.json()["code"]) == (422, "date_in_future")


@pytest.mark.only_backend("postgresql")
async def test_concurrent_identical_filings_pay_once(http, covered, citizen, db):
    [rider] = await covered()
    body = claim(rider, "accident_condolence", "accident", D(2026, 3, 1), "same")
    responses = await asyncio.gather(*(file(http, citizen, body) for _ in range(8)))
    assert {r.status_code for r in responses} == {201}, [r.text for r in responses]
    statuses = sorted(r.json()["status"] for r in responses)
    assert statuses == ["approved"] + ["rejected"] * 7


@pytest.mark.only_backend("postgresql")
async def test_concurrent_reviews_hold_the_ceiling(http, covered, citizen, examiner, db):
    [rider] = await covered()
    pending = [
        await filed(
            http,
            citizen,
            claim(
                rider,
                "accidental_disability",
                "accident",
                D(2026, 5, 1 + n),
                f"acc{n}",
                assessed_on=D(2026, 9, 1),
                injuries=[{"grade": 1}],
            ),
        )
        for n in range(3)
    ]
    responses = await asyncio.gather(
        *(
            http.post(
                f"/v1/claims/{p['id']}/review", json={"decision": "approve"}, headers=examiner
            )
            for p in pending
        ),
        *(
            http.post(
                f"/v1/claims/{p['id']}/documents",
                json={"documents": documents("id_proof")},
                headers=citizen,
            )
            for p in pending
        ),
    )
    assert {r.status_code for r in responses} <= {200, 409}, [r.text for r in responses]
    async with db.reader() as session:
        total = await session.scalar(select(func.sum(Payout.amount_fen)))
    assert total == 72_000_000


async def test_cursor_pages_through_everything(http, covered, citizen):
    [rider] = await covered()
    ids = [
        (
            await filed(
                http,
                citizen,
                claim(rider, "accident_condolence", "accident", D(2026, 3, 1 + n), f"p{n}"),
            )
        )["id"]
        for n in range(5)
    ]
    seen, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await http.get("/v1/claims", params=params, headers=citizen)).json()
        seen += [c["id"] for c in page["claims"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 5
    assert sorted(seen) == sorted(ids)


async def _add_renewal(db, member_id, starts_on, ends_on):
    from app.coverage.models import CoveragePeriodRecord
    from app.enrolment.models import Enrolment

    async with db.writer() as session:
        enrolment = (
            await session.scalars(select(Enrolment).where(Enrolment.member_id == member_id))
        ).one()
        period = (
            await session.scalars(
                select(CoveragePeriodRecord).where(CoveragePeriodRecord.member_id == member_id)
            )
        ).one()
        copy = {c.key: getattr(enrolment, c.key) for c in Enrolment.__table__.columns}
        copy["id"] = uuid.uuid4()
        session.add(Enrolment(**copy))
        await session.flush()
        session.add(
            CoveragePeriodRecord(
                member_id=member_id,
                plan_code=period.plan_code,
                plan_version=period.plan_version,
                starts_on=starts_on,
                ends_on=ends_on,
                continues_previous=True,
                enrolment_id=copy["id"],
                payment_order_id=period.payment_order_id,
            )
        )
        await session.commit()


# One reference is one accident: across a renewal it keeps its date, and its death benefit is
# reduced by the disability already paid.
async def test_one_accident_is_not_paid_in_full_twice_across_periods(
    http, covered, citizen, examiner, db
):
    [rider] = await covered(starts_on=D(2025, 1, 1))
    await _add_renewal(db, rider, D(2026, 1, 1), D(2026, 12, 31))
    disability = await filed(
        http,
        citizen,
        claim(
            rider,
            "accidental_disability",
            "accident",
            D(2025, 12, 31),
            "X",
            assessed_on=D(2026, 3, 1),
            injuries=[{"grade": 1}],
        ),
    )
    disability = await review(http, examiner, disability["id"], decision="approve")
    assert disability["decision"]["payable_fen"] == 60_000_000
    # The same reference with another date is refused: one reference, one accident.
    death = await file(
        http,
        citizen,
        claim(rider, "accidental_death", "accident", D(2026, 1, 1), "X", died_on=D(2026, 4, 1)),
    )
    assert (death.status_code, death.json()["code"]) == (422, "event_mismatch")
    death = await filed(
        http,
        citizen,
        claim(rider, "accidental_death", "accident", D(2025, 12, 31), "X", died_on=D(2026, 4, 1)),
    )
    death = await review(http, examiner, death["id"], decision="approve")
    assert death["decision"]["payable_fen"] == 0, death["decision"]


async def test_a_zero_pay_death_leaves_a_second_death_benefit_payable(
    http, covered, citizen, examiner
):
    [rider] = await covered()
    disability = await filed(
        http,
        citizen,
        claim(
            rider,
            "accidental_disability",
            "accident",
            D(2026, 6, 6),
            "crash",
            assessed_on=D(2026, 8, 1),
            injuries=[{"grade": 1}],
        ),
    )
    await review(http, examiner, disability["id"], decision="approve")
    death = await filed(
        http,
        citizen,
        claim(rider, "accidental_death", "accident", D(2026, 6, 6), "crash", died_on=D(2026, 9, 1)),
    )
    await review(http, examiner, death["id"], decision="approve")
    again = await filed(
        http,
        citizen,
        claim(rider, "illness_death", "illness", D(2026, 9, 1), "ill", died_on=D(2026, 9, 1)),
    )
    assert (again["status"], codes(again)) == ("rejected", ["benefit_limit_reached"])
