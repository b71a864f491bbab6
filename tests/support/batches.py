"""Union batches: more platform workers (young riders, one in Beijing), batch rows as JSON or
CSV, submitting them, and running the job worker until it has nothing left to do."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime, timedelta
from typing import Any

import httpx

from tests.support.enrolment import WORKERS, close_app, make_enrol_app, worker
from tests.support.jobs import run_jobs_but_messages
from tests.support.rules import id_number
from tests.support.service import asgi_client

PLAN = "shanghai-new-employment-e"
# Young riders with valid numbers, each with an account on demo-delivery: rider-0 .. rider-N.
RIDERS = [id_number(date(1995, 1, 1) + timedelta(days=i), sequence="517") for i in range(40)]
BEIJING = id_number(date(1993, 3, 3), sequence="662")

BATCH_WORKERS = [
    *WORKERS,
    *(worker(f"rider-{i}", number) for i, number in enumerate(RIDERS)),
    worker("rider-bj", BEIJING, city="beijing"),
]
# slow-delivery (no bulk verification) points at a closed port: it never answers.
CLOSED_PORT_URL = "http://127.0.0.1:9"


def row(ref: str, id_no: str, worker_id: str, **changes) -> dict:
    return {
        "ref": ref,
        "id_number": id_no,
        "name": "王小明",
        "phone": "13912345678",
        "platform_code": "demo-delivery",
        "platform_worker_id": worker_id,
        "work_type": "food_delivery",
        "union_member_number": f"HP-{ref}",
    } | changes


def as_csv(rows: list[dict], *, bom: bool = False) -> bytes:
    columns = list(dict.fromkeys(k for r in rows for k in r))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return ("\ufeff" if bom else "").encode() + buffer.getvalue().encode()


async def submit(http, headers, rows: list[dict], key: str = "batch-1", **kw):
    return await http.post(
        "/v1/enrolment-batches",
        json={"plan_code": PLAN, "rows": rows},
        headers=headers | {"Idempotency-Key": key},
        **kw,
    )


async def submit_csv(http, headers, body: bytes, key: str = "batch-csv", plan: str | None = PLAN):
    return await http.post(
        "/v1/enrolment-batches",
        content=body,
        params={"plan_code": plan} if plan else {},
        headers=headers | {"Idempotency-Key": key, "Content-Type": "text/csv"},
    )


def apps_at(settings, var_dir, db, **overrides):
    """`async with open_app(moment) as (http, app):` the same database with the service's clock
    at `moment`, and every batch rider's last order an hour before it (`overrides`: more
    settings)."""

    @asynccontextmanager
    async def open_app(moment: datetime) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
        recent = (moment - timedelta(hours=1)).isoformat()
        application = await make_enrol_app(
            settings,
            var_dir,
            db,
            now=moment,
            slow_url=CLOSED_PORT_URL,
            register=False,
            workers=[w | {"last_order_at": recent} for w in BATCH_WORKERS],
            **overrides,
        )
        try:
            async with asgi_client(application) as client:
                yield client, application
        finally:
            await close_app(application)

    return open_app


async def drain(application: Any) -> int:
    """Run every due job; how many ran, messages to workers not counted (tests/support/jobs)."""
    return await run_jobs_but_messages(application)
