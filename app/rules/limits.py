"""The most each benefit can pay a member in one period, from the plan's parameters.

Coverage views show `used / limit / remaining` per benefit: the limit is per period, or per
accident for disability and accidental death, and the ceiling over all benefits applies on top.
"""

from __future__ import annotations

from app.rules.decision import Usage
from app.rules.plan import Plan
from app.rules.vocabulary import (
    ACCIDENT_CONDOLENCE,
    ACCIDENTAL_DEATH,
    ACCIDENTAL_DISABILITY,
    CRITICAL_ILLNESS,
    CRITICAL_ILLNESS_MEDICAL,
    DEATH_BENEFITS,
    HOSPITAL_ALLOWANCE,
    ILLNESS_DEATH,
)


def benefit_limit_fen(plan: Plan, benefit: str) -> int:
    terms = plan.benefit(benefit)
    if benefit == HOSPITAL_ALLOWANCE:
        return terms.int_param("max_days_per_period") * terms.int_param("daily_rate_fen")
    if benefit in (CRITICAL_ILLNESS, ILLNESS_DEATH, ACCIDENTAL_DEATH, ACCIDENTAL_DISABILITY):
        return terms.int_param("amount_fen")
    if benefit in (CRITICAL_ILLNESS_MEDICAL, ACCIDENT_CONDOLENCE):
        return terms.int_param("max_per_period_fen")
    raise KeyError(benefit)


# Limited per accident, not per period: another accident can pay the whole sum again.
PER_ACCIDENT = frozenset({ACCIDENTAL_DISABILITY, ACCIDENTAL_DEATH})


def remaining_fen(plan: Plan, usage: Usage, benefit: str) -> int:
    """The most the benefit could still pay in this period for a new event, ceiling included."""
    limit = benefit_limit_fen(plan, benefit)
    if benefit in DEATH_BENEFITS and any(usage.paid(code) for code in DEATH_BENEFITS):
        own = 0
    elif benefit in PER_ACCIDENT:
        own = limit
    else:
        own = max(0, limit - usage.paid(benefit))
    return min(own, max(0, plan.ceiling_fen.value - usage.total_paid_fen))
