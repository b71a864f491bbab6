"""Coverage periods: when cover starts, ends, renews, waits and stops.

Dates are Shanghai calendar dates, supplied by the caller (this module never reads a clock).
A period covers `starts_on` to `ends_on` inclusive: it starts the day after payment is confirmed
and lasts the plan's months (12), so a payment on 15 July 2026 covers 16 July 2026 to 15 July 2027.
A renewal paid before the current period ends continues it without a gap and without a new
waiting period. One paid within the plan's `renewal_grace_days` after the end still continues
cover (no new waiting period), but starts, like any payment, the day after it: the days between
are not covered. A payment later than that starts afresh, waiting period included.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from app.rules.calendar import ONE_DAY, add_months, anniversary
from app.rules.plan import Plan
from app.rules.vocabulary import ACCIDENT


@dataclass(frozen=True, slots=True)
class CoveragePeriod:
    starts_on: date
    ends_on: date
    continues_previous: bool = False

    def covers(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on


@dataclass(frozen=True, slots=True)
class MemberCover:
    """Everything about a member's cover the rules need: paid periods and a date of death."""

    periods: tuple[CoveragePeriod, ...]
    died_on: date | None = None


def period_for_payment(
    plan: Plan,
    paid_on: date,
    latest: CoveragePeriod | None = None,
    born_on: date | None = None,
) -> CoveragePeriod:
    """The period a premium paid on `paid_on` buys, given the member's latest period (and birth
    date: where the plan does not let cover continue past the age limit, the period ends the
    day before the `under_age` birthday)."""
    rules = plan.period
    fresh_start = paid_on + timedelta(days=rules.starts_days_after_payment.value)
    if latest is None or not rules.renewable.value:
        starts_on, continues = fresh_start, False
    elif paid_on <= latest.ends_on:
        starts_on, continues = latest.ends_on + ONE_DAY, True
    else:
        grace_ends = latest.ends_on + timedelta(days=rules.renewal_grace_days.value)
        starts_on, continues = fresh_start, paid_on <= grace_ends
    ends_on = add_months(starts_on, rules.months.value) - ONE_DAY
    if born_on is not None and not plan.eligibility.cover_continues_past_age_limit.value:
        ends_on = min(ends_on, anniversary(born_on, plan.eligibility.under_age.value) - ONE_DAY)
    return CoveragePeriod(starts_on, ends_on, continues)


def ended_at_age_limit(plan: Plan, periods: Iterable[CoveragePeriod], day: date) -> bool:
    """Whether `day` falls after cover the age limit ended: the member's last period before it
    is shorter than the plan's months, which happens only where the plan ends cover the day
    before the `under_age` birthday (`period_for_payment`); no renewal can follow it."""
    if plan.eligibility.cover_continues_past_age_limit.value:
        return False
    before = max((p for p in periods if p.ends_on < day), key=lambda p: p.ends_on, default=None)
    if before is None:
        return False
    return before.ends_on < add_months(before.starts_on, plan.period.months.value) - ONE_DAY


def period_on(periods: Iterable[CoveragePeriod], day: date) -> CoveragePeriod | None:
    for period in periods:
        if period.covers(day):
            return period
    return None


def in_force_or_next(
    cover: MemberCover, today: date, *, death_ends_cover: bool
) -> CoveragePeriod | None:
    """The period in force `today`, else the next paid one; None when there is neither.

    What a platform partner is told about its worker. A death (when the plan says it ends
    cover) leaves nothing after the date of death: the period running on that day stops then,
    and a period paid ahead never starts.
    """
    dead = cover.died_on if death_ends_cover else None
    if dead is not None and today > dead:
        return None
    for period in sorted(cover.periods, key=lambda p: p.starts_on):
        if period.ends_on < today:
            continue
        if dead is not None and period.starts_on > dead:
            return None
        return period
    return None


def waiting_last_day(plan: Plan, period: CoveragePeriod, event_kind: str) -> date | None:
    """The last day of the waiting period for this kind of event, or None when there is none."""
    if period.continues_previous and plan.waiting.waived_on_continuous_renewal.value:
        return None
    days = (
        plan.waiting.accident_days.value
        if event_kind == ACCIDENT
        else plan.waiting.illness_days.value
    )
    return period.starts_on + timedelta(days=days - 1) if days > 0 else None


def cover_ended_by_death(plan: Plan, cover: MemberCover, day: date) -> bool:
    return plan.claims.death_ends_cover.value and cover.died_on is not None and day > cover.died_on


def blocking_period(
    plan: Plan, periods: Iterable[CoveragePeriod], on: date
) -> CoveragePeriod | None:
    """The period that makes a new enrolment on `on` a second share, or None if it may go ahead.

    One share per member per period: while cover runs (or is paid ahead), a new enrolment is
    refused unless it is a renewal bought in the window before the latest period ends.
    """
    latest = max(periods, key=lambda p: p.ends_on, default=None)
    if latest is None or latest.ends_on < on:
        return None
    opens_on = renewal_opens_on(plan, latest)
    if opens_on is not None and on >= opens_on:
        return None
    return latest


def renewal_opens_on(plan: Plan, period: CoveragePeriod) -> date | None:
    """The first day a renewal of `period` may be bought (`renewal_opens_days_before_end` days
    before its end, counting the last day: 30 days for a period ending 15 July open on 16 June);
    None when the plan is not renewable."""
    if not plan.period.renewable.value:
        return None
    days = plan.period.renewal_opens_days_before_end.value
    return period.ends_on - timedelta(days=days - 1) if days > 0 else period.ends_on + ONE_DAY


class RenewalNotice(StrEnum):
    """What to tell a period's platforms about its renewal today."""

    WAIT = "wait"  # renewal does not open yet
    ANNOUNCE = "announce"  # it is open: say so, once
    NONE = "none"  # nothing to say, ever: already renewed, cannot be renewed, or over


def renewal_notice(
    plan: Plan,
    period: CoveragePeriod,
    today: date,
    *,
    renewed: bool,
    died_on: date | None,
    born_on: date | None,
) -> RenewalNotice:
    """Whether the opening of `period`'s renewal is to be announced `today`: from the day it
    opens to the period's last day, unless a later period is already paid, the member died, or
    the member would be past the age limit on the renewal's first day (refused then)."""
    opens_on = renewal_opens_on(plan, period)
    if opens_on is not None and today < opens_on:
        return RenewalNotice.WAIT
    past_age = born_on is not None and period.ends_on + ONE_DAY >= anniversary(
        born_on, plan.eligibility.under_age.value
    )
    if opens_on is None or renewed or died_on is not None or past_age or today > period.ends_on:
        return RenewalNotice.NONE
    return RenewalNotice.ANNOUNCE


def application_lapsed(plan: Plan, applied_on: date, today: date) -> bool:
    """Left unpaid longer than the plan allows (`applications.valid_days`)."""
    return today > applied_on + timedelta(days=plan.applications.valid_days.value)


def application_expired(plan: Plan, applied_on: date, today: date) -> bool:
    """An application that lapsed no longer holds a share open; nor one whose version would end
    before cover paid `today` could start (an application is for one version of the plan, and
    its cover must start inside that version's range)."""
    first_day = today + timedelta(days=plan.period.starts_days_after_payment.value)
    return application_lapsed(plan, applied_on, today) or first_day > plan.effective_to.value


def share_blocker(
    plan: Plan,
    open_applications_applied_on: Iterable[date],
    periods: Iterable[CoveragePeriod],
    today: date,
) -> str | None:
    """Why a member may not enrol again `today`, or None: an application still open (one left
    unpaid past the plan's validity does not count), or cover that is not yet renewable."""
    if any(
        not application_expired(plan, applied, today) for applied in open_applications_applied_on
    ):
        return "an application is already open"
    blocking = blocking_period(plan, periods, today)
    if blocking is not None:
        return f"already covered until {blocking.ends_on}"
    return None
