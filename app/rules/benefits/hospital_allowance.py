"""住院补助金: a daily allowance for days in hospital.

Hospital days are the nights of the stay (discharge date minus admission date) or, if the plan
says `inclusive`, every calendar day from admission to discharge. Days outside cover do not count:
before the period started, or after cover ended (a continuous renewal continues it) beyond
`max_days_after_period_end`. No day after a recorded date of death counts, whatever the
discharge date says. A day already paid is never paid again, whichever claim it came in.
A deductible is taken from each stay; at most `max_days_per_period` days are paid in a period.
"""

from __future__ import annotations

from datetime import date, timedelta

from app.rules.benefits.base import Assessment, BenefitContext
from app.rules.calendar import ONE_DAY
from app.rules.decision import ReasonCode
from app.rules.facts import Facts, HospitalStay, InvalidFacts
from app.rules.money import yuan


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def hospital_allowance(context: BenefitContext, facts: Facts) -> Assessment:
    if not isinstance(facts, HospitalStay):
        raise InvalidFacts("facts", "hospital_allowance needs admitted_on and discharged_on")
    terms, period, result = context.terms, context.period, Assessment()
    rate = terms.int_param("daily_rate_fen")
    inclusive = terms.str_param("day_count") == "inclusive"
    stay = _days(
        facts.admitted_on, facts.discharged_on if inclusive else facts.discharged_on - ONE_DAY
    )
    covered_until = context.cover_until + timedelta(
        days=terms.int_param("max_days_after_period_end")
    )
    in_cover = [d for d in stay if period.starts_on <= d <= covered_until]
    counted = [d for d in in_cover if context.died_on is None or d <= context.died_on]
    new = [d for d in counted if d not in context.paid_hospital_dates]
    result.basis(
        "hospital_days",
        f"{len(stay)} hospital day(s) from {facts.admitted_on} to {facts.discharged_on}",
        0,
        context.rule("day_count"),
    )
    result.basis("daily_rate", f"{yuan(rate)} a day", rate, context.rule("daily_rate_fen"))
    result.gross(len(stay) * rate, f"{len(stay)} day(s) x {yuan(rate)}")
    if len(in_cover) < len(stay):
        result.reduce_to(
            len(in_cover) * rate,
            "days_outside_cover",
            f"{len(stay) - len(in_cover)} day(s) outside cover "
            f"({period.starts_on}..{covered_until})",
            context.rule("max_days_after_period_end"),
        )
    if len(counted) < len(in_cover):
        result.reduce_to(
            len(counted) * rate,
            "days_after_death",
            f"{len(in_cover) - len(counted)} day(s) after the date of death ({context.died_on})",
        )
    if len(new) < len(counted):
        result.reduce_to(
            len(new) * rate,
            "days_already_paid",
            f"{len(counted) - len(new)} day(s) already paid by another claim",
        )
        if not new:
            result.refuse(ReasonCode.DUPLICATE_CLAIM, "every day of this stay was already paid")
    deductible = terms.int_param("deductible_days_per_stay")
    payable_days = max(0, len(new) - deductible)
    if payable_days < len(new):
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
    result.hospital_dates = frozenset(new)
    return result
