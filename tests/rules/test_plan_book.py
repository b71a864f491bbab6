"""The plan book: versions side by side, the one in force on a day, the one a payment buys."""

from __future__ import annotations

import re
from datetime import date

import pytest

from app.plans import parse_plan_text
from app.rules.coverage import CoveragePeriod, application_expired
from app.rules.plan import PlanError
from app.rules.plan_book import PlanBook
from tests.support.plans import (
    CODE,
    NEXT_VERSION,
    SHIPPED_VERSION,
    next_version,
    shipped_ending,
)

D = date
OLD = parse_plan_text(shipped_ending(D(2026, 12, 31)))
NEW = parse_plan_text(next_version(D(2027, 1, 1)))
BOOK = PlanBook.of([NEW, OLD])


def test_versions_are_kept_oldest_first_and_found_by_name():
    assert [p.version for p in BOOK.versions(CODE)] == [SHIPPED_VERSION, NEXT_VERSION]
    assert BOOK.version(CODE, NEXT_VERSION) is NEW
    assert BOOK.version(CODE, "1999.1") is None
    assert BOOK.versions("no-such-plan") == ()


@pytest.mark.parametrize(
    ("day", "version"),
    [
        (D(2023, 6, 30), None),
        (D(2023, 7, 1), SHIPPED_VERSION),
        (D(2026, 12, 31), SHIPPED_VERSION),
        (D(2027, 1, 1), NEXT_VERSION),
        (D(2099, 12, 31), NEXT_VERSION),
        (D(2100, 1, 1), None),
    ],
)
def test_the_version_in_force_on_a_day(day, version):
    plan = BOOK.in_force(CODE, day)
    assert (plan.version if plan else None) == version


@pytest.mark.parametrize(
    ("paid_on", "latest", "version"),
    [
        # Cover starts the day after payment: paid on the old version's last day, the new one.
        (D(2026, 12, 30), None, SHIPPED_VERSION),
        (D(2026, 12, 31), None, NEXT_VERSION),
        # A renewal starts the day after the current period: paid in December, for January.
        (D(2026, 12, 10), CoveragePeriod(D(2026, 1, 11), D(2027, 1, 10)), NEXT_VERSION),
        (D(2026, 12, 10), CoveragePeriod(D(2025, 12, 31), D(2026, 12, 30)), SHIPPED_VERSION),
        (D(2023, 6, 29), None, None),
    ],
)
def test_a_payment_buys_the_version_in_force_on_the_first_day_of_its_cover(
    paid_on, latest, version
):
    plan = BOOK.for_payment_on(CODE, paid_on, latest)
    assert (plan.version if plan else None) == version


def test_overlapping_versions_are_refused():
    overlapping = parse_plan_text(next_version(D(2026, 12, 31), "2027.0"))
    with pytest.raises(PlanError, match=re.escape("2027.0 starts on 2026-12-31")):
        PlanBook.of([OLD, overlapping])


def test_a_version_given_twice_is_refused():
    with pytest.raises(PlanError, match=re.escape(f"version {SHIPPED_VERSION} is given twice")):
        PlanBook.of([OLD, parse_plan_text(shipped_ending(D(2026, 6, 30)))])


def test_the_version_shown_is_the_one_in_force_else_the_next_else_the_last():
    assert BOOK.shown_on(CODE, D(2026, 11, 23)) is OLD
    assert BOOK.shown_on(CODE, D(2027, 1, 1)) is NEW
    assert BOOK.shown_on(CODE, D(2020, 1, 1)) is OLD
    assert BOOK.shown_on(CODE, D(2100, 1, 1)) is NEW
    assert BOOK.shown_on("no-such-plan", D(2026, 1, 1)) is None


def test_an_application_cannot_be_paid_once_its_cover_would_start_after_its_version():
    # Applied 20 December 2026 under the version ending 31 December: valid 30 days, but paid
    # on the 31st its cover would start on 1 January.
    assert not application_expired(OLD, D(2026, 12, 20), D(2026, 12, 30))
    assert application_expired(OLD, D(2026, 12, 20), D(2026, 12, 31))
    # Under a version without that end, only the 30 days count.
    assert not application_expired(NEW, D(2027, 1, 20), D(2027, 2, 19))
    assert application_expired(NEW, D(2027, 1, 20), D(2027, 2, 20))
