"""Individual enrolments with payment at a steady pace, as the government app sends them: apply
(the service verifies the worker with the platform), open the payment order, then the payment
gateway's signed notification that it was paid, which activates the cover.

A flow starts every 1/rate seconds whatever the earlier ones are doing (an open loop: a slow
service does not slow the load down), each request timed on its own. The rate is a few a
second, so the Python client's CPU is small beside the service's. Used by `bench.soak`.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import httpx

from app.core.signing import signature_header
from app.platforms.simulator import synthetic_workers
from bench.results import Measurement, quantile_samples

APPLY, PAY = "enrolments", "enrolment payments"  # the order and the gateway's notification
PLATFORM = "sim"  # bench.batch.start_simulated_platform
WORK_DISTRICT = "310115"


@dataclass(frozen=True)
class Flows:
    """What the flows send: the synthetic workers from `first` on (the platform simulator
    knows them), the plan, the government app's key, and the gateway's signing secret."""

    base_url: str
    api_key: str
    secret: bytes
    plan_code: str
    paid_at: str
    first: int
    count: int
    per_second: float


@dataclass
class Sample:
    endpoint: str
    started: float
    milliseconds: float
    status: int
    outcome: str


@dataclass
class Recorded:
    samples: list[Sample] = field(default_factory=list)
    flows_started: int = 0
    # Flows whose last step said `activated`.
    activated: int = 0
    failures: Counter[str] = field(default_factory=Counter)

    def slices(self, seconds: float) -> list[tuple[str, float, float, Measurement]]:
        """The samples in back-to-back slices of `seconds` per endpoint: (endpoint, start,
        end, measurement), as `bench.soak` keeps its wrk loads."""
        if not self.samples:
            return []
        origin = min(s.started for s in self.samples)
        grouped: dict[tuple[str, int], list[Sample]] = defaultdict(list)
        for sample in self.samples:
            grouped[(sample.endpoint, int((sample.started - origin) // seconds))].append(sample)
        out = []
        for (endpoint, n), samples in sorted(grouped.items()):
            measured = Measurement(
                requests=len(samples),
                seconds=seconds,
                statuses=Counter(s.status for s in samples),
                outcomes=Counter(s.outcome for s in samples),
                samples=quantile_samples([s.milliseconds for s in samples]),
            )
            start = origin + n * seconds
            out.append((endpoint, start, start + seconds, measured))
        return out


def run_in_thread(flows: Flows, stop: threading.Event) -> tuple[threading.Thread, Recorded]:
    """Start the flows in a thread of their own until `stop` is set; what they recorded."""
    recorded = Recorded()
    thread = threading.Thread(target=lambda: asyncio.run(_run(flows, stop, recorded)))
    thread.start()
    return thread, recorded


async def _run(flows: Flows, stop: threading.Event, recorded: Recorded) -> None:
    workers = synthetic_workers(flows.first + flows.count)[flows.first :]
    headers = {"Authorization": f"Bearer {flows.api_key}"}
    limits = httpx.Limits(max_connections=32)
    async with httpx.AsyncClient(
        base_url=flows.base_url, headers=headers, timeout=60, limits=limits
    ) as http:
        running: set[asyncio.Task[None]] = set()
        started = time.monotonic()
        for n, worker in enumerate(workers):
            if stop.is_set():
                break
            task = asyncio.create_task(_flow(http, flows, flows.first + n, worker, recorded))
            running.add(task)
            task.add_done_callback(running.discard)
            recorded.flows_started += 1
            await asyncio.sleep(max(0.0, started + (n + 1) / flows.per_second - time.monotonic()))
        else:
            recorded.failures["ran out of synthetic workers"] += 1
        if running:
            await asyncio.gather(*running)


async def _flow(
    http: httpx.AsyncClient, flows: Flows, n: int, worker: dict[str, Any], recorded: Recorded
) -> None:
    applied = await _timed(
        recorded,
        APPLY,
        http.post(
            "/v1/enrolments",
            json={
                "plan_code": flows.plan_code,
                "id_number": worker["id_number"],
                "name": worker["name"],
                "phone": f"137{n:08d}",
                "platform_code": PLATFORM,
                "platform_worker_id": worker["platform_worker_id"],
                "work_type": worker["work_type"],
                "work_district": WORK_DISTRICT,
                "union": {"join": True},
                "consent": {"sensitive_personal_data": True},
            },
            headers={"Idempotency-Key": f"soak-enrolment-{n}"},
        ),
        "status",
    )
    if applied is None or applied.get("status") != "awaiting_payment":
        recorded.failures[f"application answered {applied and applied.get('status')}"] += 1
        return
    order = await _timed(
        recorded,
        PAY,
        http.post(
            f"/v1/enrolments/{applied['id']}/payment-orders",
            headers={"Idempotency-Key": f"soak-order-{n}"},
        ),
        "status",
    )
    if order is None:
        recorded.failures["payment order refused"] += 1
        return
    body = json.dumps(
        {
            "event_id": f"soak-enrolment-{n}",
            "payment_order_id": order["id"],
            "status": "succeeded",
            "amount_fen": order["amount_fen"],
            "paid_at": flows.paid_at,
            "channel": "alipay",
        }
    ).encode()
    paid = await _timed(
        recorded,
        PAY,
        http.post(
            "/v1/payment-notifications",
            content=body,
            headers={
                "Content-Type": "application/json",
                "X-Signature": signature_header(flows.secret, int(time.time()), body),
            },
        ),
        "outcome",
    )
    if paid is not None and paid.get("outcome") == "activated":
        recorded.activated += 1
    else:
        recorded.failures[f"notification answered {paid and paid.get('outcome')}"] += 1


async def _timed(
    recorded: Recorded, endpoint: str, sending: Any, outcome_field: str
) -> dict[str, Any] | None:
    """Send, record the answer's time, status and `outcome_field`; its JSON body if 2xx."""
    started = time.monotonic()
    try:
        answer = await sending
    except httpx.HTTPError as exc:
        recorded.samples.append(Sample(endpoint, started, _ms(started), 0, type(exc).__name__))
        return None
    body = answer.json() if answer.headers.get("content-type", "").endswith("json") else {}
    outcome = str(body.get(outcome_field) if answer.is_success else body.get("code"))
    recorded.samples.append(Sample(endpoint, started, _ms(started), answer.status_code, outcome))
    return body if answer.is_success else None


def _ms(started: float) -> float:
    return (time.monotonic() - started) * 1000
