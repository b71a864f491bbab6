"""Coverage periods: start, end, renewal, waiting, death."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.plans import parse_plan_text
from app.rules.adjudication import decide
from app.rules.coverage import (
    CoveragePeriod,
    MemberCover,
    RenewalNotice,
    cover_ended_by_death,
    ended_at_age_limit,
    in_force_or_next,
    period_for_payment,
    period_on,
    renewal_notice,
    waiting_last_day,
)
from app.rules.decision import Decision
from app.rules.facts import CondolenceFacts, HospitalStay
from app.rules.plan import Plan
from tests.support.plans import SHIPPED_TEXT, edited
from tests.support.rules import (
    FIRST_DAY,
    LAST_DAY,
    LAST_WAITING_DAY,
    PAID_ON,
    claim,
    shanghai_plan,
)

PLAN = shanghai_plan()


def test_cover_starts_the_day_after_payment_and_lasts_twelve_months():
    period = period_for_payment(PLAN, PAID_ON)

    # Paid 15 July 2026 -> 16 July 2026 .. 15 July 2027 inclusive.
    assert (period.starts_on, period.ends_on) == (FIRST_DAY, LAST_DAY)
    assert not period.continues_previous
    assert period.covers(FIRST_DAY)
    assert period.covers(LAST_DAY)
    assert not period.covers(PAID_ON)
    assert not period.covers(date(2027, 7, 16))


def test_a_period_starting_on_29_february_ends_on_28_february():
    # Paid 28 Feb 2028 -> starts 29 Feb 2028; 12 months on is "29 Feb 2029" = 1 March; ends 28 Feb.
    period = period_for_payment(PLAN, date(2028, 2, 28))
    assert (period.starts_on, period.ends_on) == (date(2028, 2, 29), date(2029, 2, 28))


def test_renewal_before_the_end_continues_without_gap_or_waiting():
    first = period_for_payment(PLAN, PAID_ON)
    renewal = period_for_payment(PLAN, date(2027, 7, 15), latest=first)  # the last day

    assert renewal.starts_on == date(2027, 7, 16)
    assert renewal.ends_on == date(2028, 7, 15)
    assert renewal.continues_previous
    assert waiting_last_day(PLAN, renewal, "illness") is None


def test_payment_after_the_grace_starts_afresh_with_a_waiting_period():
    first = period_for_payment(PLAN, PAID_ON)  # ends 15 July 2027; 30 days' grace to 14 August
    later = period_for_payment(PLAN, date(2027, 8, 15), latest=first)

    assert later.starts_on == date(2027, 8, 16)
    assert not later.continues_previous
    # 30 waiting days: 16 Aug .. 14 Sep 2027.
    assert waiting_last_day(PLAN, later, "illness") == date(2027, 9, 14)


@pytest.mark.parametrize(
    ("paid_on", "starts_on", "continues"),
    [
        (date(2027, 7, 15), date(2027, 7, 16), True),  # the last day: no gap
        (date(2027, 7, 16), date(2027, 7, 17), True),  # the day after: 16 July uncovered
        (date(2027, 8, 14), date(2027, 8, 15), True),  # the last day of grace
        (date(2027, 8, 15), date(2027, 8, 16), False),  # one day too late: afresh
    ],
)
def test_a_renewal_paid_within_the_grace_continues_cover_from_the_day_after_payment(
    paid_on, starts_on, continues
):
    first = period_for_payment(PLAN, PAID_ON)
    renewal = period_for_payment(PLAN, paid_on, latest=first)

    assert (renewal.starts_on, renewal.continues_previous) == (starts_on, continues)
    assert (waiting_last_day(PLAN, renewal, "illness") is None) == continues


def test_in_the_grace_gap_nothing_is_covered_and_the_renewal_has_no_waiting_period():
    first = period_for_payment(PLAN, PAID_ON)  # ends 15 July 2027
    renewal = period_for_payment(PLAN, date(2027, 7, 25), latest=first)  # from 26 July
    cover = MemberCover((first, renewal))

    def stay(on: date) -> Decision:
        facts = HospitalStay(admitted_on=on, discharged_on=on + timedelta(days=3))
        return decide(PLAN, claim("hospital_allowance", facts, on=on, kind="illness"), cover, {})

    assert [r.code for r in stay(date(2027, 7, 20)).reasons] == ["no_active_coverage"]
    in_renewal = stay(date(2027, 7, 28))  # illness three days into the renewal
    assert (in_renewal.approved, in_renewal.payable_fen) == (True, 3 * 10_000)


def test_waiting_applies_to_illness_only():
    period = period_for_payment(PLAN, PAID_ON)
    # 16 July + 29 days = 14 August: the 30th day of cover.
    assert waiting_last_day(PLAN, period, "illness") == LAST_WAITING_DAY
    assert waiting_last_day(PLAN, period, "accident") is None


def test_period_lookup_and_death():
    period = period_for_payment(PLAN, PAID_ON)
    cover = MemberCover((period,), died_on=date(2026, 10, 1))

    assert period_on(cover.periods, date(2026, 10, 2)) == period
    assert not cover_ended_by_death(PLAN, cover, date(2026, 10, 1))
    assert cover_ended_by_death(PLAN, cover, date(2026, 10, 2))


def test_a_second_share_is_blocked_until_the_renewal_window_opens():
    from app.rules.coverage import blocking_period

    period = period_for_payment(PLAN, PAID_ON)  # ends 15 July 2027
    # 30-day window: renewal opens on 16 June 2027 (15 July - 16 June = 29 days < 30).
    assert blocking_period(PLAN, [period], date(2026, 8, 1)) == period
    assert blocking_period(PLAN, [period], date(2027, 6, 15)) == period
    assert blocking_period(PLAN, [period], date(2027, 6, 16)) is None
    assert blocking_period(PLAN, [period], date(2027, 7, 16)) is None  # lapsed: a new start
    assert blocking_period(PLAN, [], date(2026, 8, 1)) is None


def test_benefit_limits_from_the_plan():
    from app.rules.decision import Usage, UsageDelta
    from app.rules.limits import benefit_limit_fen, remaining_fen

    # 180 days x ¥100 = ¥18,000; the rest are the design's sums and caps.
    assert {code: benefit_limit_fen(PLAN, code) for code in PLAN.benefits} == {
        "hospital_allowance": 1_800_000,
        "critical_illness": 5_000_000,
        "critical_illness_medical": 5_000_000,
        "illness_death": 10_000_000,
        "accidental_death": 60_000_000,
        "accidental_disability": 60_000_000,
        "accident_condolence": 600_000,
    }
    # ¥700,000 paid on disability: disability could pay ¥600,000 more, but the ceiling leaves
    # ¥20,000; condolence ¥6,000, within what the ceiling leaves.
    usage = (
        Usage()
        .plus(UsageDelta("accidental_disability", "a", 60_000_000))
        .plus(UsageDelta("critical_illness", "b", 5_000_000))
        .plus(UsageDelta("critical_illness_medical", "c", 5_000_000))
    )
    assert remaining_fen(PLAN, usage, "accidental_disability") == 2_000_000
    assert remaining_fen(PLAN, usage, "accident_condolence") == 600_000
    assert remaining_fen(PLAN, usage, "critical_illness") == 0


def test_platforms_see_the_period_in_force_else_the_next_paid_one():
    current = CoveragePeriod(date(2026, 1, 1), date(2026, 12, 31))
    renewal = CoveragePeriod(date(2027, 1, 1), date(2027, 12, 31), continues_previous=True)
    cover = MemberCover((renewal, current))

    assert in_force_or_next(cover, date(2025, 12, 1), death_ends_cover=True) == current
    assert in_force_or_next(cover, date(2026, 12, 31), death_ends_cover=True) == current
    assert in_force_or_next(cover, date(2027, 1, 1), death_ends_cover=True) == renewal
    assert in_force_or_next(cover, date(2028, 1, 1), death_ends_cover=True) is None
    assert in_force_or_next(MemberCover(()), date(2026, 6, 1), death_ends_cover=True) is None


def test_after_a_death_platforms_see_no_cover_and_a_paid_ahead_period_never_starts():
    current = CoveragePeriod(date(2026, 1, 1), date(2026, 12, 31))
    renewal = CoveragePeriod(date(2027, 1, 1), date(2027, 12, 31), continues_previous=True)
    dead = MemberCover((current, renewal), died_on=date(2026, 6, 1))

    assert in_force_or_next(dead, date(2026, 6, 1), death_ends_cover=True) == current
    assert in_force_or_next(dead, date(2026, 6, 2), death_ends_cover=True) is None
    assert in_force_or_next(dead, date(2027, 3, 1), death_ends_cover=True) is None
    # A plan where death does not end cover keeps both periods.
    assert in_force_or_next(dead, date(2027, 3, 1), death_ends_cover=False) == renewal
    dead_in_december = MemberCover((current, renewal), died_on=date(2026, 12, 31))
    assert in_force_or_next(dead_in_december, date(2026, 12, 31), death_ends_cover=True) == current


# Paid 15 July 2026: the period ends 15 July 2027 and its renewal opens on 16 June 2027.
@pytest.mark.parametrize(
    ("today", "changes", "notice"),
    [
        (date(2027, 6, 15), {}, RenewalNotice.WAIT),
        (date(2027, 6, 16), {}, RenewalNotice.ANNOUNCE),
        (date(2027, 7, 15), {}, RenewalNotice.ANNOUNCE),
        (date(2027, 7, 16), {}, RenewalNotice.NONE),  # over before it was seen open
        (date(2027, 6, 20), {"renewed": True}, RenewalNotice.NONE),
        (date(2027, 6, 20), {"died_on": date(2027, 1, 1)}, RenewalNotice.NONE),
        # 60 on 16 July 2027, the renewal's first day: it would be refused.
        (date(2027, 6, 20), {"born_on": date(1967, 7, 16)}, RenewalNotice.NONE),
        (date(2027, 6, 20), {"born_on": date(1967, 7, 17)}, RenewalNotice.ANNOUNCE),
    ],
)
def test_when_a_renewal_opening_is_announced(today, changes, notice):
    period = period_for_payment(PLAN, PAID_ON)
    given = {"renewed": False, "died_on": None, "born_on": None} | changes

    assert renewal_notice(PLAN, period, today, **given) is notice


# A plan whose cover stops at the age limit; the member is 60 on 1 March 2027.
ENDS_AT_LIMIT = parse_plan_text(
    edited(
        SHIPPED_TEXT,
        (
            "cover_continues_past_age_limit = { value = true",
            "cover_continues_past_age_limit = { value = false",
        ),
    )
)
BORN = date(1967, 3, 1)


def test_cover_ends_the_day_before_the_60th_birthday_where_the_plan_says_so():
    cut = period_for_payment(ENDS_AT_LIMIT, PAID_ON, born_on=BORN)
    kept = period_for_payment(PLAN, PAID_ON, born_on=BORN)

    assert (cut.starts_on, cut.ends_on) == (FIRST_DAY, date(2027, 2, 28))
    assert (kept.starts_on, kept.ends_on) == (FIRST_DAY, LAST_DAY)
    # Someone young enough keeps the whole period either way.
    assert period_for_payment(ENDS_AT_LIMIT, PAID_ON, born_on=date(1990, 1, 1)).ends_on == LAST_DAY


def test_an_event_after_cover_ended_at_the_age_limit_is_refused_for_it():
    def accident(plan: Plan, on: date) -> Decision:
        cover = MemberCover((period_for_payment(plan, PAID_ON, born_on=BORN),))
        return decide(plan, claim("accident_condolence", CondolenceFacts(), on=on), cover, {})

    assert accident(ENDS_AT_LIMIT, date(2027, 2, 28)).approved
    assert [r.code for r in accident(ENDS_AT_LIMIT, date(2027, 3, 1)).reasons] == [
        "age_limit_reached"
    ]
    assert accident(PLAN, date(2027, 3, 1)).approved  # the shipped plan: cover runs on
    # After a period that simply ran out, it is no cover, not the age limit.
    assert not ended_at_age_limit(ENDS_AT_LIMIT, [period_for_payment(PLAN, PAID_ON)], LAST_DAY)
