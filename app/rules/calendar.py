"""Calendar arithmetic on plain dates: anniversaries, months, ages.

One rule for 29 February everywhere: in a common year its anniversary is 1 March (the day after
28 February), for ages and for periods alike. Ages count completed Gregorian years.
"""

from __future__ import annotations

from datetime import date, timedelta

ONE_DAY = timedelta(days=1)


def add_months(start: date, months: int) -> date:
    """The same day `months` later; a day the target month lacks rolls to the next month's first
    (31 Jan + 1 month = 1 Mar; 29 Feb + 12 months = 1 Mar in a common year)."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    try:
        return date(year, month, start.day)
    except ValueError:
        return date(year + month // 12, month % 12 + 1, 1)


def anniversary(start: date, years: int) -> date:
    return add_months(start, 12 * years)


def completed_years(birth: date, on: date) -> int:
    """Age in completed years on `on` (negative before birth)."""
    years = on.year - birth.year
    return years if on >= anniversary(birth, years) else years - 1


def is_under(birth: date, years: int, on: date) -> bool:
    """`未满N周岁`: `on` is before the N-th birthday; on the birthday itself one is no longer
    under N (Civil Code art. 1259: 不满 excludes the number)."""
    return on < anniversary(birth, years)


def within_gateway_bounds(day: date, earliest: date, today: date) -> bool:
    """Whether the day the gateway says money moved can be believed: not before what it pays
    for began (the application, the cover), not after tomorrow (its clock may run ahead of ours
    across midnight). Any other day would put the money where no report looks."""
    return earliest <= day <= today + ONE_DAY
