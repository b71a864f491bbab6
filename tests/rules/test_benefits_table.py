"""Every benefit, with its boundary cases, decided by the rules core.

Each row: earlier claims (which build the usage), the claim under test, and the expected payable
amount and reasons. Amounts are worked out by hand in the comment next to each row, from the
plan's numbers (shared/design.md section 4): hospital ¥100/day, 180 days; critical illness
¥50,000 (mild 30%); medical subsidy 50% up to ¥50,000; illness death ¥100,000; accidental death
¥600,000; disability ¥600,000 x grade ratio; condolence ¥500, ¥6,000 a period; ceiling ¥720,000.
Cover: paid 15 July 2026 -> 16 July 2026 .. 15 July 2027; illness waiting to 14 August 2026.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pytest

from app.rules.adjudication import decide, decide_all
from app.rules.coverage import MemberCover, period_for_payment
from app.rules.facts import (
    ClaimFacts,
    CondolenceFacts,
    CriticalIllnessFacts,
    DeathFacts,
    DisabilityFacts,
    HospitalStay,
    MedicalSubsidyFacts,
)
from tests.support.rules import FIRST_DAY, LAST_DAY, LAST_WAITING_DAY, claim, cover, shanghai_plan

PLAN = shanghai_plan()
D = date
SEP1 = D(2026, 9, 1)


def stay(
    admitted: date, discharged: date, *, on: date | None = None, kind="illness", ref="stay"
) -> ClaimFacts:
    return claim(
        "hospital_allowance",
        HospitalStay(admitted, discharged),
        on=on or admitted,
        kind=kind,
        ref=ref,
    )


def ci(disease: str, severity: str = "severe", *, on: date = SEP1, ref="ci") -> ClaimFacts:
    return claim(
        "critical_illness",
        CriticalIllnessFacts(on, disease, severity),
        on=on,
        kind="illness",
        ref=ref,
    )


def subsidy(cost_fen: int, *, disease="malignant_tumour", on: date = SEP1, ref="med") -> ClaimFacts:
    return claim(
        "critical_illness_medical",
        MedicalSubsidyFacts(on, D(2026, 9, 20), disease, cost_fen),
        on=on,
        kind="illness",
        ref=ref,
    )


def illness_death(died: date, *, on: date | None = None) -> ClaimFacts:
    return claim("illness_death", DeathFacts(died), on=on or died, kind="illness", ref="death")


def accidental_death(died: date, *, on: date = SEP1, ref="crash") -> ClaimFacts:
    return claim("accidental_death", DeathFacts(died), on=on, ref=ref)


def disability(
    *grades: int, on: date = SEP1, ref="crash", assessed: date = D(2027, 1, 5)
) -> ClaimFacts:
    return claim("accidental_disability", DisabilityFacts(assessed, grades), on=on, ref=ref)


def condolence(ref: str, *, on: date = SEP1, filed_on: date | None = None) -> ClaimFacts:
    return claim("accident_condolence", CondolenceFacts(), on=on, ref=ref, filed_on=filed_on)


@dataclass
class Case:
    id: str
    claim: ClaimFacts
    payable_fen: int
    reasons: tuple[str, ...] = ()
    before: list[ClaimFacts] = field(default_factory=list)
    died_on: date | None = None
    renewed: bool = False  # a continuous renewal: second period 16 Jul 2027 .. 15 Jul 2028


CONDOLENCES_11 = [condolence(f"fall-{i}") for i in range(11)]
CONDOLENCES_12 = [condolence(f"fall-{i}") for i in range(12)]

CASES = [
    # ---------------------------------------------------------------- cover boundaries
    # First day of cover: 16..30 July = 14 nights x ¥100 = ¥1,400.
    Case("first day of cover", stay(FIRST_DAY, D(2026, 7, 30), kind="accident"), 140_000),
    Case(
        "day before cover",
        stay(D(2026, 7, 15), D(2026, 7, 20), kind="accident"),
        0,
        ("no_active_coverage",),
    ),
    # Last day of cover, an accident: 1 night (15 Jul) in cover, 16..19 Jul after it ends.
    # Gross 4 x ¥100 = ¥400, less 3 days outside cover = ¥100.
    Case(
        "last day of cover, stay runs past the end",
        stay(LAST_DAY, D(2027, 7, 19), kind="accident"),
        10_000,
    ),
    Case("day after cover", condolence("late", on=D(2027, 7, 16)), 0, ("no_active_coverage",)),
    # ---------------------------------------------------------------- waiting period
    Case(
        "illness on the waiting period's last day",
        stay(LAST_WAITING_DAY, D(2026, 8, 20)),
        0,
        ("waiting_period",),
    ),
    # 15 Aug: first day after waiting; 15..19 Aug = 5 nights x ¥100 = ¥500.
    Case("illness the day after the waiting period", stay(D(2026, 8, 15), D(2026, 8, 20)), 50_000),
    # Accidents wait for nothing: 3 nights x ¥100 on the first day of cover.
    Case(
        "accident on the first day has no waiting",
        stay(FIRST_DAY, D(2026, 7, 19), kind="accident"),
        30_000,
    ),
    # ---------------------------------------------------------------- claim deadline
    Case("claim filed on the deadline", condolence("d", filed_on=D(2028, 9, 1)), 50_000),
    Case(
        "claim filed the day after the deadline",
        condolence("d", filed_on=D(2028, 9, 2)),
        0,
        ("claim_deadline_passed",),
    ),
    # ---------------------------------------------------------------- hospital allowance
    # 1 Sep .. 15 Sep: 14 nights x ¥100 = ¥1,400.
    Case("hospital 14 nights", stay(SEP1, D(2026, 9, 15)), 140_000),
    Case("same-day discharge has no night", stay(SEP1, SEP1), 0, ("no_payable_days",)),
    # 175 days already paid (7 stays of 25 nights); this stay is 10 nights, 5 are left: ¥500.
    Case(
        "days cap of 180 a period",
        stay(D(2027, 4, 1), D(2027, 4, 11), ref="s9"),
        50_000,
        ("benefit_limit_reached",),
        before=[
            stay(D(2026, 9, 1), D(2026, 9, 26), ref="s0"),
            stay(D(2026, 10, 1), D(2026, 10, 26), ref="s1"),
            stay(D(2026, 11, 1), D(2026, 11, 26), ref="s2"),
            stay(D(2026, 12, 1), D(2026, 12, 26), ref="s3"),
            stay(D(2027, 1, 1), D(2027, 1, 26), ref="s4"),
            stay(D(2027, 2, 1), D(2027, 2, 26), ref="s5"),
            stay(D(2027, 3, 1), D(2027, 3, 26), ref="s6"),
        ],
    ),
    # ---------------------------------------------------------------- critical illness
    Case("critical illness severe", ci("malignant_tumour"), 5_000_000),
    # Mild: 30% of ¥50,000 = ¥15,000.
    Case("critical illness mild at 30%", ci("malignant_tumour", "mild"), 1_500_000),
    Case("COVID-19 is listed", ci("covid_19"), 5_000_000),
    Case("unlisted disease", ci("common_cold"), 0, ("disease_not_covered",)),
    Case("no mild form of deep coma", ci("deep_coma", "mild"), 0, ("disease_not_covered",)),
    Case(
        "critical illness once per period",
        ci("stroke_sequelae", ref="ci2"),
        0,
        ("benefit_limit_reached",),
        before=[ci("malignant_tumour")],
    ),
    # Mild paid ¥15,000, then the severe form: ¥50,000 - ¥15,000 = ¥35,000 (filing order
    # does not change what the member gets).
    Case(
        "severe after mild pays the difference",
        ci("malignant_tumour", ref="ci2"),
        3_500_000,
        before=[ci("malignant_tumour", "mild")],
    ),
    Case(
        "mild after severe pays nothing",
        ci("malignant_tumour", "mild", ref="ci2"),
        0,
        ("benefit_limit_reached",),
        before=[ci("malignant_tumour")],
    ),
    Case(
        "critical illness in the waiting period",
        ci("malignant_tumour", on=D(2026, 8, 1)),
        0,
        ("waiting_period",),
    ),
    # ---------------------------------------------------------------- medical subsidy
    # 50% of ¥30,000.01 = ¥15,000.005 -> rounded down to ¥15,000.00.
    Case("medical subsidy half, rounded down to the fen", subsidy(3_000_001), 1_500_000),
    # ¥40,000 paid (50% of ¥80,000), now 50% of ¥40,000 = ¥20,000 > ¥10,000 left of ¥50,000.
    Case(
        "medical subsidy cap per period",
        subsidy(4_000_000, ref="m2"),
        1_000_000,
        ("benefit_limit_reached",),
        before=[subsidy(8_000_000)],
    ),
    Case(
        "medical subsidy for an unlisted disease",
        subsidy(100_000, disease="flu"),
        0,
        ("disease_not_covered",),
    ),
    # ---------------------------------------------------------------- deaths
    Case("illness death", illness_death(D(2026, 12, 3)), 10_000_000, died_on=D(2026, 12, 3)),
    Case("accidental death", accidental_death(D(2026, 9, 3)), 60_000_000, died_on=D(2026, 9, 3)),
    # Grade 3 paid ¥480,000 (80%); death from the same accident: ¥600,000 - ¥480,000 = ¥120,000.
    Case(
        "disability then death from the same accident pays the difference",
        accidental_death(D(2027, 2, 1)),
        12_000_000,
        before=[disability(3)],
        died_on=D(2027, 2, 1),
    ),
    # Another accident's disability is not deducted, but it counts against the ceiling:
    # ¥480,000 paid (grade 3 on accident a); death ¥600,000 > ¥720,000 - ¥480,000 = ¥240,000.
    Case(
        "death after another accident's disability meets the ceiling",
        accidental_death(D(2027, 2, 1), ref="b"),
        24_000_000,
        ("ceiling_reached",),
        before=[disability(3, ref="a")],
        died_on=D(2027, 2, 1),
    ),
    Case(
        "death then a later event",
        condolence("after", on=D(2026, 12, 4)),
        0,
        ("cover_ended_by_death",),
        died_on=D(2026, 12, 3),
    ),
    Case(
        "an event on the day of death is covered",
        condolence("same", on=D(2026, 12, 3)),
        50_000,
        died_on=D(2026, 12, 3),
    ),
    Case(
        "illness death in the waiting period",
        illness_death(D(2026, 8, 1)),
        0,
        ("waiting_period",),
        died_on=D(2026, 8, 1),
    ),
    Case(
        "accidental death needs an accident",
        claim("accidental_death", DeathFacts(SEP1), on=SEP1, kind="illness"),
        0,
        ("event_kind_not_covered",),
    ),
    # ---------------------------------------------------------------- disability
    # JR/T 0083: grade n pays (110 - 10n)%. Grade 5: 60% of ¥600,000 = ¥360,000.
    Case("disability grade 5", disability(5), 36_000_000),
    # Grades 4 and 6: the worst, 4, counts alone: 70% = ¥420,000.
    Case("disability worst grade counts", disability(6, 4), 42_000_000),
    # Two injuries at grade 3: raised to grade 2, 90% = ¥540,000.
    Case("disability tie raises one grade", disability(3, 3, 7), 54_000_000),
    # Two injuries at grade 1: never above grade 1, 100% = ¥600,000.
    Case("disability tie at grade 1 stays grade 1", disability(1, 1), 60_000_000),
    # Grade 7 paid ¥240,000 (40%); later grade 4 = ¥420,000: pays ¥180,000.
    Case(
        "worse grade later pays the difference", disability(4), 18_000_000, before=[disability(7)]
    ),
    # Death paid ¥600,000 first; a grade 1 for the same accident adds nothing.
    Case(
        "disability after death from the same accident",
        disability(1),
        0,
        ("already_paid_for_event",),
        before=[accidental_death(D(2026, 9, 3))],
    ),
    Case(
        "same grade again pays nothing",
        disability(7),
        0,
        ("already_paid_for_event",),
        before=[disability(7)],
    ),
    # Condolence ¥500 paid; grade 9 = 20% of ¥600,000 = ¥120,000, less ¥500 = ¥119,500.
    Case(
        "condolence paid is deducted from disability",
        disability(9, ref="fall"),
        11_950_000,
        before=[condolence("fall")],
    ),
    # ---------------------------------------------------------------- condolence
    Case("condolence", condolence("fall"), 50_000),
    # 11 paid = ¥5,500; the 12th brings the period to ¥6,000.
    Case("12th condolence of the period", condolence("fall-12"), 50_000, before=CONDOLENCES_11),
    Case(
        "13th condolence of the period",
        condolence("fall-13"),
        0,
        ("condolence_cap_reached",),
        before=CONDOLENCES_12,
    ),
    Case(
        "no condolence for a graded accident",
        condolence("crash"),
        0,
        ("disability_grade_reached",),
        before=[disability(10)],
    ),
    Case(
        "one condolence per accident",
        condolence("fall"),
        0,
        ("already_paid_for_event",),
        before=[condolence("fall")],
    ),
    Case(
        "condolence needs an accident",
        claim("accident_condolence", CondolenceFacts(), on=SEP1, kind="illness"),
        0,
        ("event_kind_not_covered",),
    ),
    # ---------------------------------------------------------------- the ceiling
    # Paid before: grade 1 ¥600,000 + critical illness ¥50,000 + subsidy ¥50,000 = ¥700,000.
    # Grade 2 on another accident = ¥540,000, but ¥720,000 - ¥700,000 = ¥20,000 is left.
    Case(
        "the claim that crosses ¥720,000 pays the remainder",
        disability(2, ref="b"),
        2_000_000,
        ("ceiling_reached",),
        before=[disability(1, ref="a"), ci("malignant_tumour"), subsidy(12_000_000)],
    ),
    Case(
        "after the ceiling, nothing",
        condolence("c"),
        0,
        ("ceiling_reached",),
        before=[
            disability(1, ref="a"),
            ci("malignant_tumour"),
            subsidy(12_000_000),
            disability(2, ref="b"),
        ],
    ),
    # ---------------------------------------------------------------- found in review
    Case(
        "one death benefit across periods",
        accidental_death(D(2027, 8, 1), on=D(2027, 8, 1)),
        0,
        ("benefit_limit_reached",),
        before=[illness_death(D(2027, 8, 1), on=D(2026, 12, 1))],
        renewed=True,
    ),
    Case(
        "a paid death ends cover for later claims",
        condolence("later", on=D(2026, 11, 1)),
        0,
        ("cover_ended_by_death",),
        before=[illness_death(D(2026, 10, 1))],
    ),
    # 10 Jul .. 9 Aug 2027 = 30 nights, all in continuous cover through the renewal: ¥3,000.
    Case(
        "a stay into a continuous renewal keeps its days",
        stay(D(2027, 7, 10), D(2027, 8, 9), kind="accident"),
        300_000,
        renewed=True,
    ),
    Case(
        "the same stay twice",
        stay(SEP1, D(2026, 9, 15), ref="again"),
        0,
        ("duplicate_claim",),
        before=[stay(SEP1, D(2026, 9, 15))],
    ),
    # Paid nights 1..14 Sep; this stay's nights 10..19 Sep: 15..19 Sep are new, 5 x ¥100.
    Case(
        "an overlapping stay pays only the new days",
        stay(D(2026, 9, 10), D(2026, 9, 20), ref="overlap"),
        50_000,
        before=[stay(SEP1, D(2026, 9, 15))],
    ),
    # Accident 1 Sep 2026, death 20 Aug 2028, claimed 10 Sep 2028: within 2 years of the death.
    Case(
        "the deadline runs from the death",
        claim(
            "accidental_death",
            DeathFacts(D(2028, 8, 20)),
            on=SEP1,
            ref="crash",
            filed_on=D(2028, 9, 10),
        ),
        60_000_000,
        died_on=D(2028, 8, 20),
    ),
    # 12 condolences paid (¥6,000); grade 10 on fall-0 absorbs its ¥500 (pays ¥60,000 - ¥500),
    # so condolences count ¥5,500 and a new accident's ¥500 fits under the cap again.
    Case(
        "a condolence absorbed by a disability frees room under the cap",
        condolence("fall-new"),
        50_000,
        before=[*CONDOLENCES_12, disability(10, ref="fall-0")],
    ),
    Case("a subsidy of nothing says why", subsidy(1), 0, ("nothing_payable",)),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_benefit_table(case: Case):
    member = cover(died_on=case.died_on)
    if case.renewed:
        renewal = period_for_payment(PLAN, D(2027, 7, 1), latest=member.periods[0])
        member = MemberCover((*member.periods, renewal), case.died_on)
    _, usage = decide_all(PLAN, case.before, member)

    decision = decide(PLAN, case.claim, member, usage)

    assert decision.payable_fen == case.payable_fen, decision.lines
    assert tuple(r.code.value for r in decision.reasons) == case.reasons
    assert decision.approved == (case.payable_fen > 0)
    assert (decision.plan_code, decision.plan_version) == (PLAN.code, PLAN.version)
    if decision.approved:
        assert decision.lines[-1].kind == "payable"
        assert decision.lines[-1].amount_fen == case.payable_fen
        gross = next(line for line in decision.lines if line.kind == "gross")
        reductions = sum(line.amount_fen for line in decision.lines if line.kind == "reduction")
        assert gross.amount_fen + reductions == case.payable_fen


def test_reductions_cite_the_plan_rule():
    member = cover()
    _, usage = decide_all(PLAN, [*CONDOLENCES_11, condolence("x")], member)
    decision = decide(PLAN, condolence("y"), member, usage)

    [cap] = [line for line in decision.lines if line.kind == "reduction"]
    assert cap.rule == "benefits.accident_condolence.max_per_period_fen"
    assert cap.amount_fen == -50_000


# ---------------------------------------------------------------- who may join: age
# Under 60 on the application date and again on the first day of cover (design section 4).
# Born 24 November 1966: the 60th birthday is 24 November 2026.
BORN = D(1966, 11, 24)
AGE_CASES = [
    # applied on, paid on -> cover starts the next day; expected failures at each check
    ("applies and is covered well before the birthday", D(2026, 10, 1), D(2026, 10, 1), [], []),
    (
        "applies the day before the birthday, paid two days before",
        D(2026, 11, 23),
        D(2026, 11, 22),
        [],
        [],
    ),
    (
        "applies the day before; cover would start on the birthday",
        D(2026, 11, 23),
        D(2026, 11, 23),
        [],
        ["age_limit"],
    ),
    ("applies on the birthday", D(2026, 11, 24), D(2026, 11, 24), ["age_limit"], ["age_limit"]),
]


@pytest.mark.parametrize(
    ("applied_on", "paid_on", "at_application", "at_cover_start"),
    [case[1:] for case in AGE_CASES],
    ids=[case[0] for case in AGE_CASES],
)
def test_age_is_checked_on_application_and_on_the_first_day_of_cover(
    applied_on, paid_on, at_application, at_cover_start
):
    from app.rules.coverage import period_for_payment
    from app.rules.eligibility import check_age

    starts_on = period_for_payment(PLAN, paid_on).starts_on

    assert [f.code for f in check_age(PLAN, BORN, applied_on)] == at_application
    assert [f.code for f in check_age(PLAN, BORN, starts_on)] == at_cover_start


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (
            lambda: claim(
                "hospital_allowance",
                HospitalStay(D(2026, 7, 20), D(2026, 8, 20)),
                on=D(2026, 8, 15),
                kind="illness",
            ),
            "facts",
        ),
        (
            lambda: claim(
                "critical_illness",
                CriticalIllnessFacts(D(2026, 7, 1), "deep_coma", "severe"),
                on=D(2026, 8, 15),
                kind="illness",
            ),
            "facts",
        ),
    ],
    ids=["admitted before the event", "diagnosed before the event"],
)
def test_facts_dated_before_their_event_are_a_broken_request(make, field):
    from app.rules.facts import InvalidFacts

    with pytest.raises(InvalidFacts) as error:
        make()
    assert error.value.field == field
