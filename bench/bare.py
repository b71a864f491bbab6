"""The baselines: bare FastAPI endpoints that do one statement each, with the service's pool
size. Against claims, one INSERT through SQLAlchemy's asyncio engine on asyncpg. Against the
coverage look-up, the floor of the read path: the look-up's own SELECT (the platform-worker
unique index joined to the member and the periods not yet ended) on an asyncpg pool used
directly, no SQLAlchemy. What the service does per request beyond that (authentication,
tenancy, idempotency, locking, adjudication, ledger, audit, logs, metrics) is the difference
between the numbers.

    python -m uvicorn bench.bare:app --workers 2   # with DATABASE_URL set
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime
from zoneinfo import ZoneInfo

import asyncpg
from fastapi import FastAPI, Request
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from app.core.db import async_database_url

TABLE = "bench_bare_inserts"
CREATE_TABLE = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} "
    "(id uuid PRIMARY KEY, body jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now())"
)


# What app/partners/coverage.py sends for one worker, as SQLAlchemy compiles it for asyncpg.
COVERAGE_SELECT = (
    "SELECT platform_workers.platform_worker_id, members.died_on_cipher, "
    "coverage_periods.plan_code, coverage_periods.plan_version, coverage_periods.starts_on, "
    "coverage_periods.ends_on FROM platform_workers "
    "JOIN members ON members.id = platform_workers.member_id "
    "LEFT OUTER JOIN coverage_periods ON coverage_periods.member_id = platform_workers.member_id "
    "AND coverage_periods.ends_on >= $1::DATE "
    "WHERE platform_workers.platform_code = $2::VARCHAR "
    "AND platform_workers.platform_worker_id = $3::VARCHAR"
)
PLATFORM = "bench-delivery"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _today() -> date:
    """The service's day under the bench's fixed clock, so both read the same periods."""
    clock = os.environ.get("MUTUALAID_CLOCK")
    now = datetime.fromisoformat(clock) if clock else datetime.now(SHANGHAI)
    return now.astimezone(SHANGHAI).date()


async def _nothing_to_reset(_connection: asyncpg.Connection) -> None:
    pass


@asynccontextmanager
async def lifespan(application: FastAPI) -> AsyncIterator[None]:
    pool_size = int(os.environ.get("MUTUALAID_DB_POOL_SIZE", "10"))
    url = os.environ["DATABASE_URL"]
    engine = create_async_engine(async_database_url(url), pool_size=pool_size)
    parsed = make_url(url)
    pool = await asyncpg.create_pool(
        host=parsed.host,
        port=parsed.port or 5432,
        user=parsed.username,
        password=parsed.password,
        database=parsed.database,
        min_size=pool_size,
        max_size=pool_size,
        reset=_nothing_to_reset,  # as the service's look-ups: one round trip a request
    )
    application.state.engine = engine
    application.state.pool = pool
    application.state.today = _today()
    yield
    await pool.close()
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
async def bare_worker(worker_id: str, request: Request) -> dict[str, object]:
    pool: asyncpg.Pool = request.app.state.pool
    today: date = request.app.state.today
    rows = await pool.fetch(COVERAGE_SELECT, today, PLATFORM, worker_id)
    return {
        "platform_worker_id": worker_id,
        "covered": any(row["starts_on"] <= today for row in rows),
        "periods": len(rows),
    }
