"""Who may join: every check that fails, each with its code, never a bare yes/no.

Published rules (shared/domain.md): under 60 on the check date, work in Shanghai through a known
platform in one of five work types, platform work verified. Nothing about hukou, the ID's address
code, or social insurance: those are deliberately not inputs here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from app.rules.calendar import is_under
from app.rules.id_numbers import IdNumber, InvalidIdNumber, parse_id_number
from app.rules.plan import Plan

_CLOCK_SKEW = timedelta(hours=1)
# Where an application that names no city is taken to work (the plan is Shanghai's).
DEFAULT_WORK_CITY = "shanghai"


@dataclass(frozen=True, slots=True)
class Failure:
    code: str
    detail: str


@dataclass(frozen=True, slots=True)
class Applicant:
    id_number: str
    work_city: str
    work_type: str
    platform_known: bool


@dataclass(frozen=True, slots=True)
class PlatformWork:
    """What the platform's verification API says about the worker."""

    registered: bool
    city: str | None
    work_type: str | None
    orders_last_7_days: int
    last_order_at: datetime | None


def _city_listed(plan: Plan, city: str) -> bool:
    listed = {c.casefold() for c in plan.eligibility.work_cities.value}
    return city.strip().casefold() in listed


def check_age(plan: Plan, birth_date: date, on: date) -> list[Failure]:
    limit = plan.eligibility.under_age.value
    minimum = plan.eligibility.min_age.value
    if not is_under(birth_date, limit, on):
        # Not the birthday itself: the message would reveal what masking hides.
        return [Failure("age_limit", f"must be under {limit} on {on.isoformat()}")]
    if is_under(birth_date, minimum, on):
        return [Failure("age_below_minimum", f"must be at least {minimum} on {on.isoformat()}")]
    return []


def check_first_day_age(plan: Plan, id_number: str, first_day: date) -> list[Failure]:
    """`age_limit` when the member will no longer be under the limit on the first day of cover,
    for an application that already fixes that day (a renewal): refused now rather than taken,
    paid and refunded. An invalid number is `check_applicant`'s to report."""
    parsed = parse_id_number(id_number)
    if isinstance(parsed, InvalidIdNumber):
        return []
    return [f for f in check_age(plan, parsed.birth_date, first_day) if f.code == "age_limit"]


def check_applicant(plan: Plan, applicant: Applicant, on: date) -> list[Failure]:
    """Every eligibility check that can be made from the application itself."""
    failures: list[Failure] = []
    parsed = parse_id_number(applicant.id_number)
    if isinstance(parsed, InvalidIdNumber):
        failures.append(Failure(parsed.code, f"ID number refused: {parsed.problem.value}"))
    else:
        failures += check_age(plan, parsed.birth_date, on)
    if not _city_listed(plan, applicant.work_city):
        failures.append(Failure("work_city_not_covered", "the plan covers work in Shanghai only"))
    if applicant.work_type not in plan.eligibility.work_types.value:
        failures.append(
            Failure("work_type_not_covered", f"work type {applicant.work_type!r} is not covered")
        )
    if not applicant.platform_known:
        failures.append(Failure("platform_unknown", "the platform is not a registered partner"))
    return failures


def check_platform_work(
    plan: Plan, work: PlatformWork, claimed_work_type: str, now: datetime
) -> list[Failure]:
    """Verified when registered, in a covered city, the work type matches, and enough orders in
    the window (at least one in the last 7 days)."""
    rules = plan.eligibility
    problems: list[str] = []
    if not work.registered:
        problems.append("not registered with the platform")
    if work.city is None or not _city_listed(plan, work.city):
        problems.append("the platform does not place the work in a covered city")
    if work.work_type != claimed_work_type:
        problems.append("the platform reports a different work type")
    if work.last_order_at is not None and work.last_order_at > now + _CLOCK_SKEW:
        problems.append("the platform reports an order in the future")
    window_start = now - timedelta(days=rules.orders_window_days.value)
    recent = work.last_order_at is not None and work.last_order_at >= window_start
    if work.orders_last_7_days < rules.min_orders_in_window.value or (
        rules.min_orders_in_window.value > 0 and not recent
    ):
        problems.append(f"no orders in the last {rules.orders_window_days.value} days")
    if problems:
        return [Failure("platform_work_not_verified", "; ".join(problems))]
    return []


def identity(id_number: str) -> IdNumber | InvalidIdNumber:
    """The parsed ID number (birth date and sex are derived from it, never asked for)."""
    return parse_id_number(id_number)
