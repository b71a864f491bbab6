"""`/healthz` says the process answers; `/readyz` says it can serve: database reachable and
migrated to the revision this code expects. Load balancers route on the second."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy import text

from app.core.db import Database
from app.core.errors import ServiceUnavailable
from app.core.migrate import head_revision
from app.core.openapi_docs import problems

router = APIRouter(tags=["health"])
logger = logging.getLogger(__name__)


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    database: str
    schema_revision: str


@router.head("/healthz", include_in_schema=False)
@router.get("/healthz", response_model=Health, responses=problems(500))
async def healthz() -> Health:
    return Health(status="ok")


@router.head("/readyz", include_in_schema=False)
@router.get("/readyz", response_model=Readiness, responses=problems(500, 503))
async def readyz(request: Request) -> Readiness:
    db: Database = request.app.state.runtime.db
    try:
        async with db.reader() as session:
            revision = await session.scalar(text("SELECT version_num FROM alembic_version"))
    except Exception as exc:
        logger.warning("readiness check failed: %s", type(exc).__name__)
        raise ServiceUnavailable(
            "the database is not reachable", code="database_unavailable"
        ) from exc
    expected = head_revision()
    if revision != expected:
        raise ServiceUnavailable(
            f"database schema is at {revision}, this code needs {expected}",
            code="schema_not_current",
        )
    return Readiness(status="ready", database="ok", schema_revision=revision)
