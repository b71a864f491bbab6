"""A circuit breaker per partner, shared by every process through its database row.

A caller loads the breakers it needs once (one indexed read), then asks each before every call.
While a breaker is closed, asking costs nothing and a success writes nothing; only a failure, a
trip, the probe and the first success after failures write, each a single conditional UPDATE
that returns the row as it now is, so concurrent callers in any process count every failure
once and trip the breaker once:

- closed: `threshold` failures in a row (timeouts, 5xx, connection errors) open it;
- open: nobody calls the partner until `cooldown_seconds` have passed since it opened;
- then one caller, in one process, takes the probe (a lease, so that a process dying while
  probing does not keep the partner shut out): a success closes the breaker, a failure opens it
  again for another cool-down.

A breaker whose row cannot be written (the database is briefly away) keeps what this caller
knows: the breaker advises, it must never turn a partner's answer into a crash.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from app.breakers.models import BreakerState, CircuitBreaker
from app.core.clock import utc_now
from app.core.db import Database

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
_WHEN = CircuitBreaker.__table__.c.opened_at.type


@dataclass(frozen=True)
class BreakerSettings:
    threshold: int
    cooldown_seconds: float
    # How long the probe may take before another caller may probe instead.
    probe_lease_seconds: float


@dataclass(frozen=True)
class Ticket:
    """Leave to make one call. `probe` is the lease's token when the call is the probe."""

    probe: str | None = None


ASK = Ticket()


@dataclass
class _Seen:
    state: BreakerState
    failures: int = 0
    opened_at: datetime | None = None
    probe_until: datetime | None = None


class Breaker:
    """One partner's breaker as one caller sees it: read once, kept current by its own writes
    (each returns the row as the database now holds it, other processes' changes included)."""

    def __init__(
        self,
        db: Database,
        key: tuple[str, str],
        settings: BreakerSettings,
        seen: _Seen,
        clock: Clock = utc_now,
    ) -> None:
        self._db = db
        self._key = key
        self._settings = settings
        self._seen = seen
        self._clock = clock
        self._probing = False

    @property
    def state(self) -> BreakerState:
        return self._seen.state

    async def allow(self) -> Ticket | None:
        """A ticket to call the partner, or None: do not call, treat it as unavailable."""
        seen, now = self._seen, self._clock()
        if seen.state == BreakerState.CLOSED:
            return ASK
        if self._probing or not self._may_probe(now):
            return None
        token = uuid.uuid4().hex
        lease = now + timedelta(seconds=self._settings.probe_lease_seconds)
        cooled = now - timedelta(seconds=self._settings.cooldown_seconds)
        taken = await self._write(
            or_(
                (CircuitBreaker.state == BreakerState.OPEN.value)
                & (CircuitBreaker.opened_at <= literal(cooled, _WHEN)),
                (CircuitBreaker.state == BreakerState.HALF_OPEN.value)
                & (CircuitBreaker.probe_until < literal(now, _WHEN)),
            ),
            {"state": BreakerState.HALF_OPEN.value, "probe_by": token, "probe_until": lease},
        )
        if taken:
            self._probing = True
            return Ticket(token)
        return ASK if self._seen.state == BreakerState.CLOSED else None

    async def failed(self, ticket: Ticket) -> None:
        """The call timed out, failed to connect or got a 5xx."""
        now = literal(self._clock(), _WHEN)
        if ticket.probe is not None:
            self._probing = False
            await self._write(
                CircuitBreaker.probe_by == ticket.probe,
                {
                    "state": BreakerState.OPEN.value,
                    "opened_at": now,
                    "trips": CircuitBreaker.trips + 1,
                    "probe_by": None,
                    "probe_until": None,
                },
            )
            self._log_opened()
            return
        if self._seen.state != BreakerState.CLOSED:
            return  # opened meanwhile: this failure is already accounted for
        trips = CircuitBreaker.failures + 1 >= self._settings.threshold
        await self._write(
            CircuitBreaker.state == BreakerState.CLOSED.value,
            {
                "failures": case((trips, 0), else_=CircuitBreaker.failures + 1),
                "state": case((trips, BreakerState.OPEN.value), else_=CircuitBreaker.state),
                "opened_at": case((trips, now), else_=CircuitBreaker.opened_at),
                "trips": case((trips, CircuitBreaker.trips + 1), else_=CircuitBreaker.trips),
            },
        )
        self._log_opened()

    async def succeeded(self, ticket: Ticket) -> None:
        """The partner answered (even with something unusable: it is there)."""
        if ticket.probe is not None:
            self._probing = False
            closed = await self._write(
                CircuitBreaker.probe_by == ticket.probe,
                {
                    "state": BreakerState.CLOSED.value,
                    "failures": 0,
                    "opened_at": None,
                    "probe_by": None,
                    "probe_until": None,
                },
            )
            if closed:
                logger.info("partner breaker closed", extra=self._labels())
        elif self._seen.state == BreakerState.CLOSED and self._seen.failures:
            self._seen.failures = 0  # one reset is enough, however many answers arrive
            await self._write(
                (CircuitBreaker.state == BreakerState.CLOSED.value) & (CircuitBreaker.failures > 0),
                {"failures": 0},
            )

    def _may_probe(self, now: datetime) -> bool:
        seen = self._seen
        if seen.state == BreakerState.OPEN:
            cooled = seen.opened_at is None or now >= seen.opened_at + timedelta(
                seconds=self._settings.cooldown_seconds
            )
            return cooled
        return seen.probe_until is None or now >= seen.probe_until

    async def _write(self, condition: ColumnElement[bool], values: dict[str, Any]) -> bool:
        """Apply `values` if the row still meets `condition`; True when it did. Either way,
        what this caller knows is then the row as it is."""
        partner, name = self._key
        try:
            async with self._db.writer() as session:
                this = (CircuitBreaker.partner == partner) & (CircuitBreaker.name == name)
                row = (
                    await session.execute(
                        update(CircuitBreaker)
                        .where(this, condition)
                        .values(**values)
                        .returning(*_SEEN_COLUMNS)
                    )
                ).first()
                applied = row is not None
                if row is None:
                    row = (await session.execute(select(*_SEEN_COLUMNS).where(this))).first()
                await session.commit()
        except (OSError, SQLAlchemyError) as exc:
            logger.warning(
                "partner breaker not recorded", extra=self._labels() | {"error": type(exc).__name__}
            )
            return False
        if row is not None:
            self._seen = _seen(row)
        return applied

    def _labels(self) -> dict[str, str]:
        return {"partner": self._key[0], "breaker": self._key[1]}

    def _log_opened(self) -> None:
        if self._seen.state == BreakerState.OPEN:
            logger.warning("partner breaker open", extra=self._labels())


_SEEN_COLUMNS = (
    CircuitBreaker.state,
    CircuitBreaker.failures,
    CircuitBreaker.opened_at,
    CircuitBreaker.probe_until,
    CircuitBreaker.probe_by,
)


def _seen(row: Any) -> _Seen:
    return _Seen(BreakerState(row.state), row.failures, row.opened_at, row.probe_until)


async def load(
    db: Database,
    partner: str,
    names: Iterable[str],
    settings: BreakerSettings,
    clock: Clock = utc_now,
) -> dict[str, Breaker]:
    """The breakers of these partners, read in one query; a partner never seen before gets its
    row (closed) first, so that every later write is a plain conditional UPDATE."""
    wanted = sorted(set(names))
    if not wanted:
        return {}
    query = select(CircuitBreaker.name, *_SEEN_COLUMNS).where(
        CircuitBreaker.partner == partner, CircuitBreaker.name.in_(wanted)
    )
    async with db.reader() as session:
        rows = {row.name: _seen(row) for row in await session.execute(query)}
    missing = [name for name in wanted if name not in rows]
    if missing:
        async with db.writer() as session:
            dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
            await session.execute(
                dialect.insert(CircuitBreaker)
                .values(
                    [
                        {"partner": partner, "name": name, "state": "closed"}
                        | {"failures": 0, "trips": 0}
                        for name in missing
                    ]
                )
                .on_conflict_do_nothing()
            )
            await session.commit()
        rows |= {name: _Seen(BreakerState.CLOSED) for name in missing}
    return {name: Breaker(db, (partner, name), settings, rows[name], clock) for name in wanted}
