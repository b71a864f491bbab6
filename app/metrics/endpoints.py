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
from sqlalchemy import func, select
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
    try:
        async with db.read_engine.connect() as connection:
            rows = (await connection.execute(_JOBS_WAITING)).all()
            breakers = (await connection.execute(_BREAKERS)).all()
    except (OSError, SQLAlchemyError) as exc:
        logger.warning("metrics: database not readable", extra={"error": type(exc).__name__})
        up.add_metric([], 0)
        return [up]
    up.add_metric([], 1)
    for kind, status, count in rows:
        waiting.add_metric([kind, status], count)
    return [up, waiting, *_breakers(breakers)]


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
