"""Property tests: random sequences of claims for one member never break the plan's limits.

Limits are the design's numbers (shared/design.md section 4), written out here rather than read
from the plan, so the tests check the plan file as well as the code.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from app.rules.adjudication import decide_all
from app.rules.coverage import MemberCover, period_for_payment
from app.rules.facts import (
    ClaimFacts,
    CondolenceFacts,
    CriticalIllnessFacts,
    DeathFacts,
    DisabilityFacts,
    Event,
    HospitalStay,
    MedicalSubsidyFacts,
)
from tests.support.rules import one_period, shanghai_plan

PLAN = shanghai_plan()
CEILING = 72_000_000
CONDOLENCE_PER_EVENT, CONDOLENCE_CAP = 50_000, 600_000
HOSPITAL_DAYS_CAP, DAILY_RATE = 180, 10_000
CRITICAL_ILLNESS, MEDICAL_CAP, ILLNESS_DEATH = 5_000_000, 5_000_000, 10_000_000
ACCIDENT_SUM = 60_000_000

# Two continuous periods: 16 Jul 2026 .. 15 Jul 2027, renewed to 15 Jul 2028. Events from the
# end of the first waiting period to the end of the renewal.
FIRST_PERIOD = one_period()
RENEWAL = period_for_payment(PLAN, date(2027, 7, 1), latest=FIRST_PERIOD)
COVER = MemberCover((FIRST_PERIOD, RENEWAL))
FIRST, LAST = date(2026, 8, 15), RENEWAL.ends_on
days_in_cover = st.integers(0, (LAST - FIRST).days).map(lambda n: FIRST + timedelta(days=n))
# Claims often share an event (the interactions live there), and there are enough distinct
# accidents for the ¥6,000 condolence cap (12 accidents) to bind.
accident_refs = st.one_of(
    st.sampled_from([f"accident-{i}" for i in range(3)]),
    st.sampled_from([f"accident-{i}" for i in range(30)]),
)
illness_refs = st.sampled_from([f"illness-{i}" for i in range(3)])
diseases = st.sampled_from([*PLAN.diseases, "common_cold"])


@st.composite
def a_claim(draw: st.DrawFn) -> ClaimFacts:
    on = draw(days_in_cover)
    benefit = draw(st.sampled_from(sorted(PLAN.benefits)))
    accident = Event("accident", on, draw(accident_refs))
    illness = Event("illness", on, draw(illness_refs))
    if benefit == "hospital_allowance":
        event = draw(st.sampled_from([accident, illness]))
        facts = HospitalStay(on, on + timedelta(days=draw(st.integers(0, 90))))
    elif benefit == "critical_illness":
        event = illness
        facts = CriticalIllnessFacts(on, draw(diseases), draw(st.sampled_from(["severe", "mild"])))
    elif benefit == "critical_illness_medical":
        event = illness
        facts = MedicalSubsidyFacts(
            on, on + timedelta(days=5), draw(diseases), draw(st.integers(0, 12_000_000))
        )
    elif benefit in ("illness_death", "accidental_death"):
        event = illness if benefit == "illness_death" else accident
        facts = DeathFacts(on)
    elif benefit == "accidental_disability":
        event = accident
        facts = DisabilityFacts(
            on, tuple(draw(st.lists(st.integers(1, 10), min_size=1, max_size=3)))
        )
    else:
        event = accident
        facts = CondolenceFacts()
    return ClaimFacts(benefit, event, facts, filed_on=on)


claim_sequences = st.lists(a_claim(), min_size=1, max_size=60)


@settings(max_examples=1000, deadline=None)
@given(claim_sequences)
def test_no_limit_is_ever_exceeded(claims):
    decisions, _ = decide_all(PLAN, claims, COVER)

    per_period = defaultdict(lambda: defaultdict(int))
    per_event = defaultdict(lambda: defaultdict(int))
    hospital_days = defaultdict(int)
    deaths_paid = 0
    for claim, decision in zip(claims, decisions, strict=True):
        assert decision.payable_fen >= 0
        assert decision.approved == (decision.payable_fen > 0)
        if not decision.approved:
            assert decision.reasons, decision
            continue
        period = decision.period_starts_on
        per_period[period][claim.benefit] += decision.payable_fen
        per_event[(period, claim.event.ref)][claim.benefit] += decision.payable_fen
        hospital_days[period] += decision.usage.hospital_days
        deaths_paid += claim.benefit in ("illness_death", "accidental_death")

    assert deaths_paid <= 1
    for period, paid in per_period.items():
        assert sum(paid.values()) <= CEILING
        assert paid["accident_condolence"] <= CONDOLENCE_CAP
        assert hospital_days[period] <= HOSPITAL_DAYS_CAP
        assert paid["hospital_allowance"] <= HOSPITAL_DAYS_CAP * DAILY_RATE
        assert paid["critical_illness"] <= CRITICAL_ILLNESS
        assert paid["critical_illness_medical"] <= MEDICAL_CAP
        assert paid["illness_death"] <= ILLNESS_DEATH
    for event in per_event.values():
        assert event["accident_condolence"] <= CONDOLENCE_PER_EVENT
        assert event["accidental_disability"] <= ACCIDENT_SUM
        # Disability deducts condolence; death deducts both: one accident pays at most the sum.
        assert (
            event["accident_condolence"]
            + event["accidental_disability"]
            + event["accidental_death"]
        ) <= ACCIDENT_SUM


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 40), max_size=40), st.lists(days_in_cover, min_size=1))
def test_n_accidents_in_a_period_pay_exactly_min_n_12_condolences(refs, days):
    """¥500 per distinct accident, at most ¥6,000 a period; a repeated accident pays nothing."""
    day = days[0] if days[0] <= FIRST_PERIOD.ends_on else FIRST
    claims = [
        ClaimFacts("accident_condolence", Event("accident", day, f"a{r}"), CondolenceFacts(), day)
        for r in refs
    ]
    decisions, _ = decide_all(PLAN, claims, COVER)

    assert sum(d.payable_fen for d in decisions) == min(len(set(refs)), 12) * CONDOLENCE_PER_EVENT


@settings(max_examples=200, deadline=None)
@given(claim_sequences, st.data())
def test_splitting_a_sequence_into_calls_changes_nothing(claims, data):
    whole, whole_usage = decide_all(PLAN, claims, COVER)

    split_at = sorted(data.draw(st.lists(st.integers(0, len(claims)), max_size=4)))
    pieces, usage, start = [], None, 0
    for end in [*split_at, len(claims)]:
        decided, usage = decide_all(PLAN, claims[start:end], COVER, usage)
        pieces += decided
        start = end

    assert pieces == whole
    assert usage == whole_usage


@settings(max_examples=200, deadline=None)
@given(claim_sequences)
def test_usage_adds_up_to_what_was_paid(claims):
    decisions, usage = decide_all(PLAN, claims, COVER)

    assert sum(u.total_paid_fen for u in usage.values()) == sum(d.payable_fen for d in decisions)
