"""Which plan version decides what happened on a day: a period keeps the version it was bought
under, so an event is judged by the version of the member's period it falls in."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from app import plans
from app.coverage.models import CoveragePeriodRecord
from app.rules.plan import Plan


def plan_on(periods: Sequence[CoveragePeriodRecord], day: date, code: str) -> Plan:
    """The version of the period `day` falls in; else of the member's latest period (an event
    outside cover is refused under the terms the member last had); else, for someone never
    covered, the version of `code` shown on that day."""
    period = next((p for p in periods if p.starts_on <= day <= p.ends_on), None)
    period = period or max(periods, key=lambda p: p.ends_on, default=None)
    if period is not None:
        return plans.of_record(period.plan_code, period.plan_version)
    plan = plans.book().shown_on(code, day)
    if plan is None:
        raise plans.MissingPlanVersion(code, f"for {day}")
    return plan
