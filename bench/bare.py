"""The baselines: bare FastAPI endpoints that do one statement through SQLAlchemy's asyncio
engine on asyncpg, the service's own driver, with the same pool size: one INSERT (against
claims) and one SELECT on the platform-worker unique index (against coverage queries). What
the service does per request beyond that (authentication, tenancy, idempotency, locking,
adjudication, ledger, audit) is the difference between the numbers.

    python -m uvicorn bench.bare:app --workers 2   # with DATABASE_URL set
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.core.db import async_database_url

TABLE = "bench_bare_inserts"
CREATE_TABLE = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} "
    "(id uuid PRIMARY KEY, body jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now())"
)


@asynccontextmanager
async def lifespan(application: FastAPI) -> AsyncIterator[None]:
    engine = create_async_engine(
        async_database_url(os.environ["DATABASE_URL"]),
        pool_size=int(os.environ.get("MUTUALAID_DB_POOL_SIZE", "10")),
    )
    application.state.engine = engine
    yield
    await engine.dispose()


app = FastAPI(lifespan=lifespan)


@app.post("/bare", status_code=201)
async def bare(request: Request) -> dict[str, str]:
    row_id = uuid.uuid4()
    body = (await request.body()).decode()
    async with request.app.state.engine.begin() as conn:
        await conn.execute(
            text(f"INSERT INTO {TABLE} (id, body) VALUES (:id, CAST(:body AS jsonb))"),
            {"id": row_id, "body": body},
        )
    return {"id": str(row_id)}


@app.get("/bare/workers/{worker_id}")
async def bare_worker(worker_id: str, request: Request) -> dict[str, str | None]:
    async with request.app.state.engine.connect() as conn:
        member_id = await conn.scalar(
            text(
                "SELECT member_id FROM platform_workers "
                "WHERE platform_code = :code AND platform_worker_id = :worker_id"
            ),
            {"code": "bench-delivery", "worker_id": worker_id},
        )
    return {"platform_worker_id": worker_id, "member_id": str(member_id) if member_id else None}
