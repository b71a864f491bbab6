"""A partner's circuit breaker, shared through the database by every process: two `load`s here
stand for two processes (an API process and a job worker), the clock moved by hand."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.breakers.models import BreakerState, CircuitBreaker
from app.breakers.service import BreakerSettings, Ticket, load

SETTINGS = BreakerSettings(threshold=3, cooldown_seconds=30, probe_lease_seconds=10)
START = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def move(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


async def breaker(db, clock, name: str = "hang-delivery"):
    return (await load(db, "platform", [name], SETTINGS, clock))[name]


async def row(db, name: str = "hang-delivery") -> CircuitBreaker:
    async with db.reader() as session:
        return (
            await session.scalars(select(CircuitBreaker).where(CircuitBreaker.name == name))
        ).one()


async def fail_all(b, n: int) -> None:
    for _ in range(n):
        ticket = await b.allow()
        assert ticket is not None
        await b.failed(ticket)


async def test_failures_in_a_row_open_it_for_every_process_and_count_one_trip(db):
    clock = Clock()
    api, worker = await breaker(db, clock), await breaker(db, clock)

    # A success starts the count again; failures from two processes add up.
    await fail_all(api, 2)
    await api.succeeded(Ticket())
    await fail_all(api, 2)
    assert api.state == BreakerState.CLOSED
    await fail_all(worker, 1)

    assert worker.state == BreakerState.OPEN
    assert await worker.allow() is None
    # A process that loads it afterwards does not call either.
    assert await (await breaker(db, clock)).allow() is None
    stored = await row(db)
    assert (stored.state, stored.trips, stored.failures) == ("open", 1, 0)


async def test_concurrent_failures_trip_it_once(db):
    clock = Clock()
    callers = [await breaker(db, clock) for _ in range(6)]
    tickets = [await c.allow() for c in callers]

    await asyncio.gather(*(c.failed(t) for c, t in zip(callers, tickets, strict=True)))

    stored = await row(db)
    assert (stored.state, stored.trips) == ("open", 1)


async def test_after_the_cool_down_one_probe_closes_it_or_opens_it_again(db):
    clock = Clock()
    first = await breaker(db, clock)
    await fail_all(first, SETTINGS.threshold)
    # Each application or chunk loads the breaker when it starts: here, another process's.
    other = await breaker(db, clock)

    clock.move(SETTINGS.cooldown_seconds - 1)
    assert await first.allow() is None  # still cooling down
    clock.move(1)
    probe = await first.allow()
    assert probe is not None
    assert probe.probe is not None
    assert (await row(db)).state == "half_open"
    # Only one call probes: neither this caller's next one nor another process's.
    assert await first.allow() is None
    assert await other.allow() is None

    await first.failed(probe)
    stored = await row(db)
    assert (stored.state, stored.trips) == ("open", 2)
    assert await other.allow() is None

    clock.move(SETTINGS.cooldown_seconds)
    probe = await other.allow()
    assert probe is not None
    assert probe.probe is not None
    await other.succeeded(probe)

    stored = await row(db)
    assert (stored.state, stored.failures, stored.trips) == ("closed", 0, 2)
    assert (await other.allow()) is not None
    # A caller that saw it open learns it closed when it next asks for the probe.
    assert (await first.allow()) is not None


async def test_a_probe_whose_process_died_is_taken_over_after_its_lease(db):
    clock = Clock()
    dying = await breaker(db, clock)
    await fail_all(dying, SETTINGS.threshold)
    clock.move(SETTINGS.cooldown_seconds)
    assert (await dying.allow()) is not None  # ... and never reports back
    other = await breaker(db, clock)

    assert await other.allow() is None
    clock.move(SETTINGS.probe_lease_seconds + 1)
    probe = await other.allow()

    assert probe is not None
    assert probe.probe is not None
    await other.succeeded(probe)
    assert (await row(db)).state == "closed"


async def test_partners_are_apart(db):
    clock = Clock()
    both = await load(db, "platform", ["hang-delivery", "demo-delivery"], SETTINGS, clock)
    await fail_all(both["hang-delivery"], SETTINGS.threshold)

    assert await both["hang-delivery"].allow() is None
    assert await both["demo-delivery"].allow() is not None
    assert (await row(db, "demo-delivery")).state == "closed"
