"""住院补助金: a daily allowance for days in hospital.

Hospital days are the nights of the stay (discharge date minus admission date) or, if the plan
says `inclusive`, every calendar day from admission to discharge. Days outside cover do not count:
before the period started, or after it ended beyond `max_days_after_period_end`. A deductible is
taken from each stay; at most `max_days_per_period` days are paid in a period.
"""

from __future__ import annotations

from datetime import date, timedelta

from app.rules.benefits.base import Assessment, BenefitContext
from app.rules.calendar import ONE_DAY
from app.rules.decision import ReasonCode
from app.rules.facts import Facts, HospitalStay, InvalidFacts
from app.rules.money import yuan


def _hospital_days(stay: HospitalStay, inclusive: bool) -> tuple[date, date]:
    """First and last hospital day of the stay (last < first when there are none)."""
    last = stay.discharged_on if inclusive else stay.discharged_on - ONE_DAY
    return stay.admitted_on, last


def hospital_allowance(context: BenefitContext, facts: Facts) -> Assessment:
    if not isinstance(facts, HospitalStay):
        raise InvalidFacts("facts", "hospital_allowance needs admitted_on and discharged_on")
    terms, period, result = context.terms, context.period, Assessment()
    rate = terms.int_param("daily_rate_fen")
    first, last = _hospital_days(facts, terms.str_param("day_count") == "inclusive")
    stay_days = max(0, (last - first).days + 1)
    covered_until = period.ends_on + timedelta(days=terms.int_param("max_days_after_period_end"))
    counted_first, counted_last = max(first, period.starts_on), min(last, covered_until)
    counted = max(0, (counted_last - counted_first).days + 1)
    result.basis(
        "hospital_days",
        f"{stay_days} hospital day(s) from {facts.admitted_on} to {facts.discharged_on}",
        0,
        context.rule("day_count"),
    )
    result.basis("daily_rate", f"{yuan(rate)} a day", rate, context.rule("daily_rate_fen"))
    result.gross(stay_days * rate, f"{stay_days} day(s) x {yuan(rate)}")
    if counted < stay_days:
        result.reduce_to(
            counted * rate,
            "days_outside_cover",
            f"{stay_days - counted} day(s) outside the period {period.starts_on}..{period.ends_on}",
            context.rule("max_days_after_period_end"),
        )
    deductible = terms.int_param("deductible_days_per_stay")
    payable_days = max(0, counted - deductible)
    if payable_days < counted:
        result.reduce_to(
            payable_days * rate,
            "deductible",
            f"deductible of {deductible} day(s) per stay",
            context.rule("deductible_days_per_stay"),
        )
    cap = terms.int_param("max_days_per_period")
    remaining_days = max(0, cap - context.usage.hospital_days)
    if payable_days > remaining_days:
        payable_days = remaining_days
        result.reduce_to(
            payable_days * rate,
            "days_cap",
            f"at most {cap} days a period; {context.usage.hospital_days} already paid",
            context.rule("max_days_per_period"),
        )
        result.refuse(
            ReasonCode.BENEFIT_LIMIT_REACHED,
            f"the {cap}-day limit of the period leaves {remaining_days} day(s)",
        )
    if payable_days == 0 and not result.reasons:
        result.refuse(ReasonCode.NO_PAYABLE_DAYS, "no hospital day in cover is payable")
    result.hospital_days = payable_days
    return result
