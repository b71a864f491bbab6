from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from app.core.clock import Clock, shanghai_date


def test_a_fixed_clock_is_what_the_service_calls_now():
    clock = Clock(datetime(2026, 6, 30, 16, 30, tzinfo=UTC))

    assert clock.is_fixed
    assert clock.now() == datetime(2026, 6, 30, 16, 30, tzinfo=UTC)
    # 16:30 UTC is 00:30 on 1 July in Shanghai: coverage dates are Shanghai dates.
    assert clock.today() == date(2026, 7, 1)


def test_the_real_clock_is_aware_and_moves():
    clock = Clock()
    now = clock.now()

    assert now.tzinfo is not None
    assert abs(now - datetime.now(UTC)) < timedelta(seconds=5)


def test_naive_times_are_refused():
    with pytest.raises(ValueError, match=r"naive|zone"):
        Clock(datetime(2026, 1, 1))  # noqa: DTZ001
    with pytest.raises(ValueError, match="naive"):
        shanghai_date(datetime(2026, 1, 1))  # noqa: DTZ001


def test_shanghai_date_of_an_instant_in_another_zone():
    new_york = timezone(timedelta(hours=-5))
    assert shanghai_date(datetime(2026, 3, 1, 12, 0, tzinfo=new_york)) == date(2026, 3, 2)
