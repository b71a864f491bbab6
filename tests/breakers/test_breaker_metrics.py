"""`GET /metrics` shows every partner's breaker as the database holds it, so any API process
shows the state the job workers left: closed 0, half-open 1, open 2, and how often each opened."""

from __future__ import annotations

from datetime import datetime, timedelta

from app.breakers.service import BreakerSettings, load
from app.core.clock import utc_now
from tests.support.metrics import scrape

SETTINGS = BreakerSettings(threshold=1, cooldown_seconds=30, probe_lease_seconds=10)


def cooled() -> datetime:
    return utc_now() + timedelta(seconds=SETTINGS.cooldown_seconds)


async def test_each_breakers_state_and_trips_are_on_metrics(http, db):
    names = ["fine-delivery", "down-delivery", "probed-delivery"]
    breakers = await load(db, "platform", names, SETTINGS)
    for name in names[1:]:
        await breakers[name].failed(await breakers[name].allow())
    # The cool-down has passed for this one: a call is probing it now.
    later = await load(db, "platform", ["probed-delivery"], SETTINGS, cooled)
    assert (await later["probed-delivery"].allow()).probe is not None

    samples = await scrape(http)

    def sample(metric: str, name: str) -> float | None:
        return samples.get((metric, frozenset({"partner": "platform", "name": name}.items())))

    assert [sample("mutualaid_breaker_state", name) for name in names] == [0.0, 2.0, 1.0]
    assert [sample("mutualaid_breaker_trips_total", name) for name in names] == [0.0, 1.0, 1.0]
