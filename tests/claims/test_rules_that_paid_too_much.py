"""Claims the engine used to pay automatically and should not: hospital days after a recorded
death, and an illness stay refiled as an accident to get round the illness waiting period.
Today is 2026-11-23 (tests/support/claims.py)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.audit.models import AuditEvent
from tests.support.claims import claim, filed, review

D = date


def codes(decided: dict) -> list[str]:
    return [r["code"] for r in decided["decision"]["reasons"]]


def line(decided: dict, code: str) -> int:
    return next(x["amount_fen"] for x in decided["decision"]["lines"] if x["code"] == code)


async def death_accepted(http, citizen, examiner, rider, died_on: date) -> None:
    death = await filed(
        http, citizen, claim(rider, "illness_death", "illness", died_on, "death", died_on=died_on)
    )
    decided = await review(http, examiner, death["id"], decision="approve")
    assert decided["status"] == "approved"


# A stay the filer says ran 12 nights past the recorded death pays the nights before it only.
async def test_no_hospital_day_counts_after_the_date_of_death(http, covered, citizen, examiner):
    [rider] = await covered()
    await death_accepted(http, citizen, examiner, rider, D(2026, 10, 1))
    stay = await filed(
        http,
        citizen,
        claim(
            rider,
            "hospital_allowance",
            "illness",
            D(2026, 9, 25),
            "stay",
            admitted_on=D(2026, 9, 25),
            discharged_on=D(2026, 10, 14),
        ),
    )

    # 19 nights, 7 of them (25 September to 1 October) lived: 7 x 100 yuan.
    assert (stay["status"], stay["decision"]["payable_fen"]) == ("approved", 70_000)
    assert line(stay, "days_after_death") == -120_000


# The critical-illness stay subsidy takes the cost in proportion to the days lived.
async def test_a_critical_illness_stay_counts_no_day_after_the_death(
    http, covered, citizen, examiner
):
    [rider] = await covered()
    await death_accepted(http, citizen, examiner, rider, D(2026, 10, 1))
    stay = await filed(
        http,
        citizen,
        claim(
            rider,
            "critical_illness_medical",
            "illness",
            D(2026, 9, 20),
            "ci-stay",
            admitted_on=D(2026, 9, 20),
            discharged_on=D(2026, 10, 10),
            disease="malignant_tumour",
            eligible_cost_fen=2_100_000,
        ),
    )

    # 50% of 21,000 yuan is 10,500; 12 of the stay's 21 days were lived: 6,000 yuan.
    assert (stay["status"], stay["decision"]["payable_fen"]) == ("approved", 600_000)
    assert line(stay, "days_after_death") == -450_000


# First enrolment on 10 November: illness waits to 9 December, accidents do not. A stay filed
# as an accident inside that wait is an examiner's to judge; approved, it pays once.
async def test_an_accident_stay_inside_the_illness_wait_goes_to_an_examiner(
    http, covered, citizen, examiner, db
):
    [rider] = await covered(starts_on=D(2026, 11, 10))
    stay = await filed(
        http,
        citizen,
        claim(
            rider,
            "hospital_allowance",
            "accident",
            D(2026, 11, 12),
            "fall",
            admitted_on=D(2026, 11, 12),
            discharged_on=D(2026, 11, 15),
        ),
    )

    assert (stay["status"], stay["decision"]) == ("pending_review", None)
    async with db.reader() as session:
        filed_event = await session.scalar(select(AuditEvent).where(AuditEvent.action == "filed"))
    assert filed_event.details["review_because"] == "accident_inside_illness_waiting_period"
    decided = await review(http, examiner, stay["id"], decision="approve")
    assert (decided["status"], decided["decision"]["payable_fen"]) == ("approved", 30_000)


# The same stay, refused for the waiting period as an illness, refiled as an accident: an
# examiner sees it, told that this stay was refused for the wait.
async def test_a_stay_refused_for_the_wait_refiled_as_an_accident_goes_to_an_examiner(
    http, covered, citizen, db
):
    [rider] = await covered(starts_on=D(2026, 10, 1))
    illness = await filed(
        http,
        citizen,
        claim(
            rider,
            "hospital_allowance",
            "illness",
            D(2026, 10, 20),
            "fever",
            admitted_on=D(2026, 10, 20),
            discharged_on=D(2026, 10, 24),
        ),
    )
    assert codes(illness) == ["waiting_period"]

    accident = await filed(
        http,
        citizen,
        claim(
            rider,
            "hospital_allowance",
            "accident",
            D(2026, 10, 20),
            "fall-2",
            admitted_on=D(2026, 10, 20),
            discharged_on=D(2026, 10, 24),
        ),
    )

    assert (accident["status"], accident["decision"]) == ("pending_review", None)
    async with db.reader() as session:
        reasons = await session.scalars(
            select(AuditEvent.details["review_because"].as_string()).where(
                AuditEvent.entity_id == accident["id"], AuditEvent.action == "filed"
            )
        )
        assert list(reasons) == ["stay_refused_for_waiting_period"]


# Outside the illness wait an accident stay is still paid at once.
async def test_an_accident_stay_after_the_wait_is_paid_at_once(http, covered, citizen):
    [rider] = await covered(starts_on=D(2026, 10, 1))
    stay = await filed(
        http,
        citizen,
        claim(
            rider,
            "hospital_allowance",
            "accident",
            D(2026, 11, 2),
            "fall-3",
            admitted_on=D(2026, 11, 2),
            discharged_on=D(2026, 11, 5),
        ),
    )

    assert (stay["status"], stay["decision"]["payable_fen"]) == ("approved", 30_000)
