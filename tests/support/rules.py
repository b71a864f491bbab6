"""Builders for rules tests: plans, ID numbers, cover and claims, in as few words as possible."""

from __future__ import annotations

from datetime import date

from app.plans import shipped_book
from app.rules.coverage import CoveragePeriod, MemberCover, period_for_payment
from app.rules.facts import ClaimFacts, Event, Facts
from app.rules.id_numbers import check_character
from app.rules.plan import Plan

PLAN_CODE = "shanghai-new-employment-e"
# Paid on 15 July 2026: cover runs 16 July 2026 .. 15 July 2027; illness waiting to 14 August.
PAID_ON = date(2026, 7, 15)
FIRST_DAY = date(2026, 7, 16)
LAST_DAY = date(2027, 7, 15)
LAST_WAITING_DAY = date(2026, 8, 14)


def shanghai_plan() -> Plan:
    """The shipped version of the Shanghai plan (the one in force on `PAID_ON`)."""
    plan = shipped_book().in_force(PLAN_CODE, PAID_ON)
    assert plan is not None
    return plan


def id_number(birth: date, address: str = "310101", sequence: str = "123") -> str:
    """A valid 18-character number: the check character is the only computed part."""
    first17 = f"{address}{birth:%Y%m%d}{sequence}"
    return first17 + check_character(first17)


def one_period(plan: Plan | None = None, paid_on: date = PAID_ON) -> CoveragePeriod:
    return period_for_payment(plan or shanghai_plan(), paid_on)


def cover(died_on: date | None = None, paid_on: date = PAID_ON) -> MemberCover:
    return MemberCover(periods=(one_period(paid_on=paid_on),), died_on=died_on)


def claim(
    benefit: str,
    facts: Facts,
    *,
    on: date,
    kind: str = "accident",
    ref: str = "event-1",
    filed_on: date | None = None,
) -> ClaimFacts:
    return ClaimFacts(
        benefit=benefit, event=Event(kind, on, ref), facts=facts, filed_on=filed_on or on
    )
