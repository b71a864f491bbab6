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
from app.rules.facts import (
    Claim,
    CondolenceFacts,
    CriticalIllnessFacts,
    DeathFacts,
    DisabilityFacts,
    Event,
    HospitalStay,
    MedicalSubsidyFacts,
)
from tests.rules.helpers import cover, shanghai_plan

PLAN = shanghai_plan()
CEILING = 72_000_000
CONDOLENCE_PER_EVENT, CONDOLENCE_CAP = 50_000, 600_000
HOSPITAL_DAYS_CAP, DAILY_RATE = 180, 10_000
CRITICAL_ILLNESS, MEDICAL_CAP, ILLNESS_DEATH = 5_000_000, 5_000_000, 10_000_000
ACCIDENT_SUM = 60_000_000

# Events after the illness waiting period and inside the cover paid on 15 July 2026.
FIRST, LAST = date(2026, 8, 15), date(2027, 7, 15)
days_in_cover = st.integers(0, (LAST - FIRST).days).map(lambda n: FIRST + timedelta(days=n))
# Few events, so that claims often share one: the interactions live there.
accident_refs = st.sampled_from([f"accident-{i}" for i in range(5)])
illness_refs = st.sampled_from([f"illness-{i}" for i in range(3)])
diseases = st.sampled_from([*PLAN.diseases, "common_cold"])


@st.composite
def a_claim(draw: st.DrawFn) -> Claim:
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
    return Claim(benefit, event, facts, filed_on=on)


claim_sequences = st.lists(a_claim(), min_size=1, max_size=40)


@settings(max_examples=1000, deadline=None)
@given(claim_sequences)
def test_no_limit_is_ever_exceeded(claims):
    decisions, _ = decide_all(PLAN, claims, cover())

    paid = defaultdict(int)
    per_event = defaultdict(lambda: defaultdict(int))
    hospital_days = 0
    for claim, decision in zip(claims, decisions, strict=True):
        assert decision.payable_fen >= 0
        assert decision.approved == (decision.payable_fen > 0)
        paid[claim.benefit] += decision.payable_fen
        per_event[claim.event.ref][claim.benefit] += decision.payable_fen
        if decision.usage is not None:
            hospital_days += decision.usage.hospital_days

    assert sum(paid.values()) <= CEILING
    assert paid["accident_condolence"] <= CONDOLENCE_CAP
    assert hospital_days <= HOSPITAL_DAYS_CAP
    assert paid["hospital_allowance"] <= HOSPITAL_DAYS_CAP * DAILY_RATE
    assert paid["critical_illness"] <= CRITICAL_ILLNESS
    assert paid["critical_illness_medical"] <= MEDICAL_CAP
    assert paid["illness_death"] + paid["accidental_death"] <= max(ILLNESS_DEATH, ACCIDENT_SUM)
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
@given(claim_sequences, st.data())
def test_splitting_a_sequence_into_calls_changes_nothing(claims, data):
    whole, whole_usage = decide_all(PLAN, claims, cover())

    split_at = sorted(data.draw(st.lists(st.integers(0, len(claims)), max_size=4)))
    pieces, usage, start = [], None, 0
    for end in [*split_at, len(claims)]:
        decided, usage = decide_all(PLAN, claims[start:end], cover(), usage)
        pieces += decided
        start = end

    assert pieces == whole
    assert usage == whole_usage


@settings(max_examples=200, deadline=None)
@given(claim_sequences)
def test_usage_adds_up_to_what_was_paid(claims):
    decisions, usage = decide_all(PLAN, claims, cover())

    assert sum(u.total_paid_fen for u in usage.values()) == sum(d.payable_fen for d in decisions)
