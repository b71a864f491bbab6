"""`GET /metrics`: the Prometheus text exposition, for the operator's scraper.

Not part of the client contract (absent from the OpenAPI spec, no API key). When
`MUTUALAID_METRICS_TOKEN` is set the scraper must send it as `Authorization: Bearer <token>`
(Prometheus: `authorization: {credentials: ...}`); otherwise keep the path off the public
balancer. Nothing exported names a member or carries personal data.
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from app.breakers.models import STATE_LEVEL, BreakerState, CircuitBreaker
from app.core.config import Settings
from app.core.db import Database
from app.core.errors import Unauthorized
from app.jobs.models import Job, JobStatus

router = APIRouter(tags=["metrics"], include_in_schema=False)
logger = logging.getLogger(__name__)

_WAITING = (JobStatus.QUEUED.value, JobStatus.RUNNING.value)
_JOBS_WAITING = (
    select(Job.kind, Job.status, func.count())
    .where(Job.status.in_(_WAITING))
    .group_by(Job.kind, Job.status)
)

_BREAKERS = select(
    CircuitBreaker.partner, CircuitBreaker.name, CircuitBreaker.state, CircuitBreaker.trips
)
# Live and dead rows of each of the service's tables, and seconds since it was last vacuumed
# (null: never since the statistics were reset), as PostgreSQL's statistics see them.
_TABLE_ROWS = text(
    "SELECT relname, n_live_tup, n_dead_tup,"
    " extract(epoch FROM now() - greatest(last_vacuum, last_autovacuum))"
    " FROM pg_stat_user_tables WHERE schemaname = current_schema() ORDER BY relname"
)
_AUTOVACUUM = text("SELECT current_setting('autovacuum') = 'on'")
Family = GaugeMetricFamily | CounterMetricFamily


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    _check_token(request)
    from_database = CollectorRegistry()
    from_database.register(_Fixed(await _from_database(request.app.state.runtime.db)))
    body = generate_latest(_process_registry()) + generate_latest(from_database)
    return Response(body, media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})


async def _from_database(db: Database) -> list[Family]:
    """The queue gauge and the partners' breakers, and whether they could be read: during a
    database outage the scrape still answers with every process counter (the 503s climbing
    are what matters then)."""
    up = GaugeMetricFamily(
        "mutualaid_database_up", "1 when this scrape could read the database, else 0."
    )
    waiting = GaugeMetricFamily(
        "mutualaid_jobs",
        "Jobs in the queue now, by kind and status (queued: waiting to run; running: leased).",
        labels=["kind", "status"],
    )
    tables: list[Any] = []
    autovacuum = None
    try:
        async with db.read_engine.connect() as connection:
            rows = (await connection.execute(_JOBS_WAITING)).all()
            breakers = (await connection.execute(_BREAKERS)).all()
            if not db.is_sqlite:
                tables = list((await connection.execute(_TABLE_ROWS)).all())
                autovacuum = bool(await connection.scalar(_AUTOVACUUM))
    except (OSError, SQLAlchemyError) as exc:
        logger.warning("metrics: database not readable", extra={"error": type(exc).__name__})
        up.add_metric([], 0)
        return [up]
    up.add_metric([], 1)
    for kind, status, count in rows:
        waiting.add_metric([kind, status], count)
    return [up, waiting, *_breakers(breakers), *_upkeep(tables, autovacuum)]


def _upkeep(rows: Sequence[Any], autovacuum: bool | None) -> list[Family]:
    """What the vacuum has left behind, table by table (PostgreSQL only): dead rows slow every
    scan of a table long before anyone notices a slow request, so alert on the ratio."""
    if autovacuum is None:
        return []
    on = GaugeMetricFamily(
        "mutualaid_database_autovacuum",
        "1 when the PostgreSQL server runs autovacuum (the service expects it to), else 0.",
    )
    on.add_metric([], int(autovacuum))
    live = GaugeMetricFamily(
        "mutualaid_table_live_rows",
        "Live rows of a table (PostgreSQL's estimate).",
        labels=["table"],
    )
    dead = GaugeMetricFamily(
        "mutualaid_table_dead_rows", "Dead rows a table holds until vacuumed.", labels=["table"]
    )
    ratio = GaugeMetricFamily(
        "mutualaid_table_dead_ratio",
        "Dead rows over all rows of a table (0: none).",
        labels=["table"],
    )
    since = GaugeMetricFamily(
        "mutualaid_table_vacuum_age_seconds",
        "Seconds since a table was last vacuumed (absent: not since the statistics began).",
        labels=["table"],
    )
    for table, live_rows, dead_rows, seconds in rows:
        live.add_metric([table], live_rows)
        dead.add_metric([table], dead_rows)
        total = live_rows + dead_rows
        ratio.add_metric([table], dead_rows / total if total else 0.0)
        if seconds is not None:
            since.add_metric([table], float(seconds))
    return [on, live, dead, ratio, since]


def _breakers(rows: Sequence[Any]) -> list[Family]:
    """Every partner's breaker (a partner appears once it has been asked), shared by all
    processes through the database, so any API process shows them all."""
    state = GaugeMetricFamily(
        "mutualaid_breaker_state",
        "A partner's circuit breaker now: 0 closed, 1 half-open (one probe call), 2 open "
        "(not called).",
        labels=["partner", "name"],
    )
    trips = CounterMetricFamily(
        "mutualaid_breaker_trips",
        "Times a partner's circuit breaker opened.",
        labels=["partner", "name"],
    )
    for partner, name, level, opened in rows:
        state.add_metric([partner, name], STATE_LEVEL[BreakerState(level)])
        trips.add_metric([partner, name], opened)
    return [state, trips]


def _check_token(request: Request) -> None:
    settings: Settings = request.app.state.settings
    if settings.metrics_token is None:
        return
    expected = f"Bearer {settings.metrics_token.get_secret_value()}".encode()
    given = request.headers.get("authorization", "").encode()
    if not hmac.compare_digest(given, expected):
        raise Unauthorized("send the metrics token as `Authorization: Bearer <token>`")


def _process_registry() -> CollectorRegistry:
    """Every API process's counters when several share the port, else this process's."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return registry
    return REGISTRY


class _Fixed:
    """A collector that yields metric families read just before."""

    def __init__(self, families: list[Family]) -> None:
        self._families = families

    def collect(self) -> list[Family]:
        return self._families
