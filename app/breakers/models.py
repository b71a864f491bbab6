"""One row per partner we guard: whether it is asked at all, and why not."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, sql_values


class BreakerState(StrEnum):
    """`closed`: asked as usual. `open`: not asked until the cool-down has passed.
    `half_open`: one call (the probe) is asking; the others still are not."""

    CLOSED = "closed"
    HALF_OPEN = "half_open"
    OPEN = "open"


# The gauge's values, in order of trouble.
STATE_LEVEL = {BreakerState.CLOSED: 0, BreakerState.HALF_OPEN: 1, BreakerState.OPEN: 2}


class CircuitBreaker(Base):
    """A partner's breaker (`partner` is the kind, such as `platform`; `name` its code).

    `failures` counts failed calls since the last success while closed; `trips` counts every
    opening ever, for the metrics. The probe is leased: `probe_by` holds it until `probe_until`,
    so a process that dies while probing does not keep the partner shut out."""

    __tablename__ = "circuit_breakers"
    __table_args__ = (
        CheckConstraint(f"state IN ({sql_values(BreakerState)})", name="state"),
        CheckConstraint("failures >= 0 AND trips >= 0", name="counts"),
    )

    partner: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), default=BreakerState.CLOSED.value)
    failures: Mapped[int] = mapped_column(default=0)
    trips: Mapped[int] = mapped_column(default=0)
    opened_at: Mapped[datetime | None]
    probe_by: Mapped[str | None] = mapped_column(String(32))
    probe_until: Mapped[datetime | None]
