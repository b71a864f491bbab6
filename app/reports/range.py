"""A report's range of days: checked, and turned into the instants that bound it.

Days are Shanghai calendar days: a payout confirmed at 23:30 UTC on 31 March counts on 1 April.
Moments are compared with the range's first and last Shanghai midnight in UTC, so indexes on
them can be used.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from app.core.clock import SHANGHAI
from app.core.errors import Unprocessable
from app.core.schemas import EARLIEST_MOMENT, LATEST_MOMENT

MAX_RANGE_DAYS = 3660


def checked_range(first: date, last: date) -> None:
    if first > last:
        raise Unprocessable("`from` must not be after `to`", code="invalid_date_range")
    if first < EARLIEST_MOMENT.date() or last >= LATEST_MOMENT.date():
        raise Unprocessable("the days must be within 2000 to 2099", code="invalid_date_range")
    if (last - first).days >= MAX_RANGE_DAYS:
        raise Unprocessable(
            f"a summary covers at most {MAX_RANGE_DAYS} days", code="invalid_date_range"
        )


def moments(first: date, last: date) -> tuple[datetime, datetime]:
    """[first 00:00, the day after last 00:00) in Shanghai."""
    return (
        datetime.combine(first, time(), SHANGHAI),
        datetime.combine(last + timedelta(days=1), time(), SHANGHAI),
    )
