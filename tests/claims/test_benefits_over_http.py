"""Acceptance: each benefit decided over HTTP with amounts computed here by hand, the condolence
cap, the ceiling, disability then death from one accident, and an examiner's grades.

Cover runs from 1 January to 31 December 2026; today is 23 November 2026. The plan's figures:
¥100 a hospital day, critical illness ¥50,000 (mild 30%), medical subsidy 50% up to ¥50,000,
illness death ¥100,000, accidental death and disability ¥600,000 (grade 1..10: 100%..10%),
condolence ¥500 an accident up to ¥6,000, and ¥720,000 a period over all of them.
"""

from __future__ import annotations

from datetime import date, timedelta

from tests.support.claims import claim, coverage, filed, review, used

D = date


async def test_each_benefit_pays_its_hand_computed_amount(http, covered, citizen, examiner):
    rider, ill, accident_victim, injured, deceased = await covered(5)

    # A fall on a delivery: 15 nights in hospital (2-17 March) at ¥100, and the condolence.
    stay = await filed(
        http,
        citizen,
        claim(
            rider,
            "hospital_allowance",
            "accident",
            D(2026, 3, 2),
            "fall-1",
            admitted_on=D(2026, 3, 2),
            discharged_on=D(2026, 3, 17),
        ),
    )
    assert (stay["status"], stay["decision"]["payable_fen"]) == ("approved", 15 * 10_000)
    condolence = await filed(
        http, citizen, claim(rider, "accident_condolence", "accident", D(2026, 3, 2), "fall-1")
    )
    assert (condolence["status"], condolence["decision"]["payable_fen"]) == ("approved", 50_000)

    # A severe malignant tumour, then its hospital stay: 50% of ¥34,567.89, rounded down.
    illness = await filed(
        http,
        citizen,
        claim(
            ill,
            "critical_illness",
            "illness",
            D(2026, 5, 10),
            "tumour",
            diagnosed_on=D(2026, 5, 10),
            disease="malignant_tumour",
            severity="severe",
        ),
    )
    assert (illness["status"], illness["decision"]["payable_fen"]) == ("approved", 5_000_000)
    subsidy = await filed(
        http,
        citizen,
        claim(
            ill,
            "critical_illness_medical",
            "illness",
            D(2026, 5, 10),
            "tumour",
            admitted_on=D(2026, 5, 11),
            discharged_on=D(2026, 5, 25),
            disease="malignant_tumour",
            eligible_cost_fen=3_456_789,
        ),
    )
    assert (subsidy["status"], subsidy["decision"]["payable_fen"]) == ("approved", 1_728_394)

    # Deaths and disability wait for an examiner, who approves; the engine computes.
    death = await filed(
        http,
        citizen,
        claim(deceased, "illness_death", "illness", D(2026, 8, 1), "heart", died_on=D(2026, 8, 1)),
    )
    assert (death["status"], death["decision"]) == ("pending_review", None)
    death = await review(http, examiner, death["id"], decision="approve")
    assert (death["status"], death["decision"]["payable_fen"]) == ("approved", 10_000_000)
    assert death["payout"]["payee_kind"] == "beneficiary"
    assert death["payout"]["beneficiary_name_masked"] == "马**"

    crash = await filed(
        http,
        citizen,
        claim(
            accident_victim,
            "accidental_death",
            "accident",
            D(2026, 9, 9),
            "crash",
            died_on=D(2026, 9, 9),
        ),
    )
    crash = await review(http, examiner, crash["id"], decision="approve")
    assert (crash["status"], crash["decision"]["payable_fen"]) == ("approved", 60_000_000)

    # Grade 4 on one injury: 70% of ¥600,000.
    disability = await filed(
        http,
        citizen,
        claim(
            injured,
            "accidental_disability",
            "accident",
            D(2026, 4, 4),
            "scooter",
            assessed_on=D(2026, 9, 30),
            injuries=[{"grade": 4}],
        ),
    )
    assert disability["status"] == "pending_review"
    disability = await review(http, examiner, disability["id"], decision="approve")
    assert disability["decision"]["payable_fen"] == 42_000_000

    period = await coverage(http, citizen, rider)
    assert used(period, "hospital_allowance") == 150_000
    assert used(period, "accident_condolence") == 50_000
    assert period["ceiling"]["used_fen"] == 200_000
    assert (await coverage(http, citizen, ill))["ceiling"]["used_fen"] == 6_728_394


async def test_the_thirteenth_condolence_of_a_period_pays_nothing(http, covered, citizen):
    [rider] = await covered()
    for n in range(12):
        decided = await filed(
            http,
            citizen,
            claim(
                rider,
                "accident_condolence",
                "accident",
                D(2026, 2, 1) + timedelta(days=n),
                f"scrape-{n}",
            ),
        )
        assert (decided["status"], decided["decision"]["payable_fen"]) == ("approved", 50_000)
    thirteenth = await filed(
        http, citizen, claim(rider, "accident_condolence", "accident", D(2026, 3, 1), "scrape-12")
    )
    assert thirteenth["status"] == "rejected"
    assert thirteenth["decision"]["payable_fen"] == 0
    assert [r["code"] for r in thirteenth["decision"]["reasons"]] == ["condolence_cap_reached"]
    assert thirteenth["payout"] is None
    period = await coverage(http, citizen, rider)
    condolence = next(b for b in period["benefits"] if b["benefit"] == "accident_condolence")
    assert (condolence["used_fen"], condolence["remaining_fen"]) == (600_000, 0)


async def test_a_sequence_crossing_the_ceiling_pays_the_remainder_then_nothing(
    http, covered, citizen, examiner
):
    [rider] = await covered()
    amounts = []

    async def approved(body: dict, judged: bool = False) -> dict:
        decided = await filed(http, citizen, body)
        if judged:
            decided = await review(http, examiner, decided["id"], decision="approve")
        amounts.append(decided["decision"]["payable_fen"])
        return decided

    # Grade 1 (100%): ¥600,000.
    await approved(
        claim(
            rider,
            "accidental_disability",
            "accident",
            D(2026, 2, 2),
            "truck",
            assessed_on=D(2026, 7, 1),
            injuries=[{"grade": 1}],
        ),
        judged=True,
    )
    await approved(
        claim(
            rider,
            "critical_illness",
            "illness",
            D(2026, 4, 1),
            "stroke",
            diagnosed_on=D(2026, 4, 1),
            disease="stroke_sequelae",
            severity="severe",
        )
    )
    # 50% of ¥200,000 is ¥100,000, capped at ¥50,000 a period.
    await approved(
        claim(
            rider,
            "critical_illness_medical",
            "illness",
            D(2026, 4, 1),
            "stroke",
            admitted_on=D(2026, 4, 2),
            discharged_on=D(2026, 4, 30),
            disease="stroke_sequelae",
            eligible_cost_fen=20_000_000,
        )
    )
    # 180 nights at ¥100.
    await approved(
        claim(
            rider,
            "hospital_allowance",
            "illness",
            D(2026, 5, 1),
            "rehab",
            admitted_on=D(2026, 5, 1),
            discharged_on=D(2026, 5, 1) + timedelta(days=180),
        )
    )
    assert amounts == [60_000_000, 5_000_000, 5_000_000, 1_800_000]  # ¥718,000 so far
    # A second accident, grade 5 (60% = ¥360,000): only the ¥2,000 left is paid.
    crossing = await approved(
        claim(
            rider,
            "accidental_disability",
            "accident",
            D(2026, 10, 1),
            "bike",
            assessed_on=D(2026, 11, 1),
            injuries=[{"grade": 5}],
        ),
        judged=True,
    )
    assert crossing["status"] == "approved"
    assert crossing["decision"]["payable_fen"] == 200_000
    assert [r["code"] for r in crossing["decision"]["reasons"]] == ["ceiling_reached"]
    assert crossing["payout"]["amount_fen"] == 200_000
    after = await filed(
        http, citizen, claim(rider, "accident_condolence", "accident", D(2026, 11, 2), "slip")
    )
    assert (after["status"], after["decision"]["payable_fen"]) == ("rejected", 0)
    assert [r["code"] for r in after["decision"]["reasons"]] == ["ceiling_reached"]
    period = await coverage(http, citizen, rider)
    assert period["ceiling"] == {
        "used_fen": 72_000_000,
        "limit_fen": 72_000_000,
        "remaining_fen": 0,
    }


async def test_disability_then_death_from_one_accident_pays_the_difference(
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
            "collision",
            assessed_on=D(2026, 8, 1),
            injuries=[{"grade": 2}],
        ),
    )
    disability = await review(http, examiner, disability["id"], decision="approve")
    assert disability["decision"]["payable_fen"] == 54_000_000  # grade 2: 90%
    death = await filed(
        http,
        citizen,
        claim(
            rider, "accidental_death", "accident", D(2026, 6, 6), "collision", died_on=D(2026, 9, 1)
        ),
    )
    death = await review(http, examiner, death["id"], decision="approve")
    assert death["decision"]["payable_fen"] == 60_000_000 - 54_000_000
    reduction = next(x for x in death["decision"]["lines"] if x["kind"] == "reduction")
    assert (reduction["code"], reduction["amount_fen"]) == ("disability_already_paid", -54_000_000)
    # The death ended cover: an accident after it is refused.
    late = await filed(
        http, citizen, claim(rider, "accident_condolence", "accident", D(2026, 9, 5), "later")
    )
    assert [r["code"] for r in late["decision"]["reasons"]] == ["cover_ended_by_death"]
    view = (await http.get(f"/v1/members/{rider}/coverage", headers=citizen)).json()
    assert (view["died_on"], view["covered_today"]) == ("2026-09-01", False)


async def test_an_examiner_review_computes_disability_from_the_grades(
    http, covered, citizen, examiner
):
    [rider] = await covered()
    filed_claim = await filed(
        http,
        citizen,
        claim(
            rider,
            "accidental_disability",
            "accident",
            D(2026, 7, 7),
            "ladder",
            assessed_on=D(2026, 10, 1),
            injuries=[{"grade": 9}],
        ),
    )
    assert (filed_claim["status"], filed_claim["decision"]) == ("pending_review", None)
    # Judged: two grade-4 injuries; a tie raises the grade by one, to 3 (80% of ¥600,000).
    decided = await review(
        http,
        examiner,
        filed_claim["id"],
        decision="approve",
        facts={"assessed_on": "2026-10-01", "injuries": [{"grade": 4}, {"grade": 4}]},
    )
    assert decided["status"] == "approved"
    assert decided["decision"]["payable_fen"] == 48_000_000
    assert decided["decision"]["decided_by"] == "examiner"
    assert decided["payout"] == {
        "id": decided["payout"]["id"],
        "amount_fen": 48_000_000,
        "payee_kind": "member",
        "payee_union_org_code": None,
        "beneficiary_name_masked": None,
        "status": "awaiting_account",  # no account on file yet
        "account_masked": None,
        "paid_at": None,
    }
    stored = (await http.get(f"/v1/claims/{decided['id']}", headers=examiner)).json()
    assert stored["facts"]["injuries"] == [{"grade": 9}]  # as filed
    assert [h["action"] for h in stored["history"]] == ["filed", "approved"]
