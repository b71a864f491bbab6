"""Ages, anniversaries and months, with 29 February handled one way everywhere."""

from __future__ import annotations

from datetime import date

import pytest

from app.rules.calendar import add_months, anniversary, completed_years, is_under


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 7, 16), 12, date(2027, 7, 16)),
        (date(2026, 1, 31), 1, date(2026, 3, 1)),  # no 31 February: roll to 1 March
        (date(2028, 2, 29), 12, date(2029, 3, 1)),  # no 29 February in 2029
        (date(2028, 2, 29), 48, date(2032, 2, 29)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
    ],
)
def test_add_months(start, months, expected):
    assert add_months(start, months) == expected


@pytest.mark.parametrize(
    ("birth", "on", "age"),
    [
        (date(1966, 9, 1), date(2026, 8, 31), 59),
        (date(1966, 9, 1), date(2026, 9, 1), 60),
        (date(2008, 2, 29), date(2025, 2, 28), 16),  # 17th birthday is 1 March 2025
        (date(2008, 2, 29), date(2025, 3, 1), 17),
        (date(2008, 2, 29), date(2024, 2, 29), 16),
        (date(2026, 1, 1), date(2025, 12, 31), -1),
    ],
)
def test_completed_years(birth, on, age):
    assert completed_years(birth, on) == age


def test_under_60_ends_on_the_60th_birthday():
    birth = date(1966, 9, 1)
    assert is_under(birth, 60, date(2026, 8, 31))
    assert not is_under(birth, 60, date(2026, 9, 1))


def test_29_february_anniversary_in_a_common_year_is_1_march():
    birth = date(2008, 2, 29)
    assert anniversary(birth, 17) == date(2025, 3, 1)
    assert is_under(birth, 17, date(2025, 2, 28))
    assert not is_under(birth, 17, date(2025, 3, 1))
