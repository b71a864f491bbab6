"""重大疾病住院医疗补助金: a share of the eligible cost of a listed disease's hospital stay, up
to a cap per period.

A stay the filer says ran past the member's recorded date of death counts no day after it: the
cost is taken in proportion to the stay's days up to the death (calendar days, both ends
counted), since the cost is not given day by day.
"""

from __future__ import annotations

from app.rules.benefits.base import Assessment, BenefitContext
from app.rules.decision import ReasonCode
from app.rules.facts import Facts, InvalidFacts, MedicalSubsidyFacts
from app.rules.money import share_of, yuan


def critical_illness_medical(context: BenefitContext, facts: Facts) -> Assessment:
    if not isinstance(facts, MedicalSubsidyFacts):
        raise InvalidFacts("facts", "critical_illness_medical needs the stay, disease and cost")
    terms, result = context.terms, Assessment()
    if facts.disease not in context.plan.diseases:
        result.refuse(ReasonCode.DISEASE_NOT_COVERED, f"{facts.disease} is not on the list")
        return result
    percent = terms.int_param("share_percent")
    result.basis(
        "eligible_cost", f"eligible cost {yuan(facts.eligible_cost_fen)}", facts.eligible_cost_fen
    )
    result.gross(share_of(facts.eligible_cost_fen, percent), f"{percent}% of the eligible cost")
    died_on = context.died_on
    if died_on is not None and facts.discharged_on > died_on:
        stay_days = (facts.discharged_on - facts.admitted_on).days + 1
        lived_days = max(0, (died_on - facts.admitted_on).days + 1)
        result.reduce_to(
            result.payable_fen * lived_days // stay_days,
            "days_after_death",
            f"{stay_days - lived_days} of {stay_days} day(s) after the date of death ({died_on})",
        )
    cap = terms.int_param("max_per_period_fen")
    remaining = max(0, cap - context.usage.paid(terms.code))
    if result.payable_fen > remaining:
        result.reduce_to(
            remaining,
            "period_cap",
            f"at most {yuan(cap)} a period; {yuan(cap - remaining)} already paid",
            context.rule("max_per_period_fen"),
        )
        result.refuse(ReasonCode.BENEFIT_LIMIT_REACHED, f"{yuan(remaining)} was left this period")
    return result
