"""The one clock every date-dependent rule reads.

Coverage, waiting periods, deadlines and ages are decided on Asia/Shanghai calendar dates taken from
this clock, never from `datetime.now()` scattered through the code. `MUTUALAID_CLOCK` fixes it for
demos and tests; production refuses the override (see `config.Settings`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def utc_now() -> datetime:
    """Real wall-clock time, for record timestamps, locks and signature freshness.

    Business rules read `Clock.now()` instead, which a demo or test may fix.
    """
    return datetime.now(UTC)


class Clock:
    """The service's idea of "now": the real time, or a fixed instant when configured."""

    def __init__(self, fixed: datetime | None = None) -> None:
        if fixed is not None and fixed.tzinfo is None:
            raise ValueError("a fixed clock needs a time zone")
        self._fixed = fixed.astimezone(UTC) if fixed is not None else None

    @property
    def is_fixed(self) -> bool:
        return self._fixed is not None

    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        return self._fixed if self._fixed is not None else utc_now()

    def today(self) -> date:
        """Today's calendar date in Shanghai, the date coverage rules are written in."""
        return self.now().astimezone(SHANGHAI).date()


def shanghai_date(instant: datetime) -> date:
    """The Shanghai calendar date of an aware instant (a payment at 23:30 UTC is tomorrow there)."""
    if instant.tzinfo is None:
        raise ValueError("naive datetimes are not accepted")
    return instant.astimezone(SHANGHAI).date()
