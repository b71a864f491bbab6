"""`GET /metrics`: the Prometheus text exposition, for the operator's scraper.

Not part of the client contract (absent from the OpenAPI spec, no API key). When
`MUTUALAID_METRICS_TOKEN` is set the scraper must send it as `Authorization: Bearer <token>`
(Prometheus: `authorization: {credentials: ...}`); otherwise keep the path off the public
balancer. Nothing exported names a member or carries personal data.
"""

from __future__ import annotations

import hmac
import os

from fastapi import APIRouter, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select

from app.core.config import Settings
from app.core.db import ReadConnectionDep
from app.core.errors import Unauthorized
from app.jobs.models import Job, JobStatus

router = APIRouter(tags=["metrics"], include_in_schema=False)

_WAITING = (JobStatus.QUEUED.value, JobStatus.RUNNING.value)
_JOBS_WAITING = (
    select(Job.kind, Job.status, func.count())
    .where(Job.status.in_(_WAITING))
    .group_by(Job.kind, Job.status)
)


@router.get("/metrics")
async def metrics(request: Request, connection: ReadConnectionDep) -> Response:
    _check_token(request)
    rows = (await connection.execute(_JOBS_WAITING)).all()
    waiting = GaugeMetricFamily(
        "mutualaid_jobs",
        "Jobs in the queue now, by kind and status (queued: waiting to run; running: leased).",
        labels=["kind", "status"],
    )
    for kind, status, count in rows:
        waiting.add_metric([kind, status], count)
    from_database = CollectorRegistry()
    from_database.register(_Fixed([waiting]))
    body = generate_latest(_process_registry()) + generate_latest(from_database)
    return Response(body, media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})


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
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


class _Fixed:
    """A collector that yields metric families read just before."""

    def __init__(self, families: list[GaugeMetricFamily]) -> None:
        self._families = families

    def collect(self) -> list[GaugeMetricFamily]:
        return self._families
