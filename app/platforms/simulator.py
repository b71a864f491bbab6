"""A simulated partner platform serving the verification contract, for demos and tests.

Workers come from a JSON list (`platform_worker_id`, `id_number`, `name`, `city`, `work_type`,
`orders_last_7_days`, and `last_order_at` or, for seeds that must not go stale,
`last_order_hours_ago`). A worker may carry `behaviour`: `timeout` (the answer
never comes in time), `error` (HTTP 500) or `garbage` (not the contract's shape), so failure
handling is tested over real HTTP. Unknown workers, or a known worker id with another person's
ID number, answer `registered: false`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Header, HTTPException
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, Field

from app.rules.id_numbers import check_character

TIMEOUT_BEHAVIOUR_SECONDS = 30.0
DEMO_WORKERS_FILE = Path(__file__).with_name("demo_workers.json")


class VerifyRequest(BaseModel):
    platform_worker_id: str
    id_number: str
    name: str


class BulkVerifyRequest(BaseModel):
    workers: list[VerifyRequest] = Field(max_length=10_000)


def _not_registered(worker_id: str | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "registered": False,
        "city": None,
        "work_type": None,
        "last_order_at": None,
        "orders_last_7_days": 0,
    }
    if worker_id is not None:
        answer["platform_worker_id"] = worker_id
    return answer


def _answer(worker: dict[str, Any] | None, request: VerifyRequest, now: datetime) -> dict[str, Any]:
    """What the platform knows of the worker the request names, if the ID number matches;
    `last_order_hours_ago` counts back from `now`."""
    if worker is None or worker["id_number"].upper() != request.id_number.upper():
        return _not_registered()
    last_order_at = worker.get("last_order_at")
    if "last_order_hours_ago" in worker:
        moment = now - timedelta(hours=worker["last_order_hours_ago"])
        last_order_at = moment.isoformat()
    return {
        "registered": True,
        "city": worker.get("city"),
        "work_type": worker.get("work_type"),
        "last_order_at": last_order_at,
        "orders_last_7_days": worker.get("orders_last_7_days", 0),
    }


def create_simulator(
    workers: list[dict[str, Any]],
    credential: str | None = None,
    slow_seconds: float = TIMEOUT_BEHAVIOUR_SECONDS,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> FastAPI:
    """The simulated platform as an ASGI app; `now` is its clock (the service's, when both run
    with `MUTUALAID_CLOCK`, so that a rider's last order is recent on the service's today)."""
    by_id = {w["platform_worker_id"]: w for w in workers}
    app = FastAPI(title="mutualaid platform simulator")

    def check(authorization: str | None) -> None:
        if credential and authorization != f"Bearer {credential}":
            raise HTTPException(401, "bad credential")

    def answer(request: VerifyRequest) -> dict[str, Any]:
        return _answer(by_id.get(request.platform_worker_id), request, now())

    @app.post("/verify")
    async def verify(
        request: VerifyRequest, authorization: str | None = Header(default=None)
    ) -> Response:
        check(authorization)
        behaviour = by_id.get(request.platform_worker_id, {}).get("behaviour")
        if behaviour == "timeout":
            await asyncio.sleep(slow_seconds)
        if behaviour == "error":
            return PlainTextResponse("internal error", status_code=500)
        if behaviour == "garbage":
            return JSONResponse({"registered": "yes", "orders": "many"})
        return JSONResponse(answer(request))

    @app.post("/verify/bulk")
    async def verify_bulk(
        request: BulkVerifyRequest, authorization: str | None = Header(default=None)
    ) -> dict[str, Any]:
        check(authorization)
        return {
            "results": [
                {"platform_worker_id": w.platform_worker_id, **answer(w)} for w in request.workers
            ]
        }

    return app


def synthetic_workers(count: int, work_type: str = "food_delivery") -> list[dict[str, Any]]:
    """`count` made-up riders, all eligible and active (valid ID numbers, Shanghai, an order two
    hours ago), for load tests and benchmarks: `syn-000000`, `syn-000001`, ..."""
    workers = []
    for i in range(count):
        first17 = f"310101{date(1980, 1, 1) + timedelta(days=i // 900):%Y%m%d}{100 + i % 900:03d}"
        workers.append(
            {
                "platform_worker_id": f"syn-{i:06d}",
                "id_number": first17 + check_character(first17),
                "name": f"骑手{i}",
                "city": "shanghai",
                "work_type": work_type,
                "orders_last_7_days": 20,
                "last_order_hours_ago": 2,
            }
        )
    return workers


def load_workers(path: Path) -> list[dict[str, Any]]:
    workers = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(workers, list):
        raise ValueError("the workers file must hold a JSON list")
    return workers
