"""Delivering one event to one endpoint: the `webhooks.deliver` job.

The POST carries the event as JSON and `X-Signature: t=<unix seconds>,v1=<hex>` where each
`v1` is HMAC-SHA256 of "t.rawbody" under one of the endpoint's secrets, exactly like the
payment gateway's notifications to us. Any 2xx answer is success. Anything else (an error
status, a timeout, a refused address) is recorded and retried with exponential backoff, capped,
until the retry window (a day from the event) closes; then the delivery is `failed`.

At least once: a worker that dies after the receiver answered but before the result was
recorded sends the event again, with the same `X-Event-Id` and body, so receivers deduplicate
on the event id.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from datetime import timedelta

import httpx
from sqlalchemy import select, update

from app.core import destinations
from app.core.clock import utc_now
from app.core.config import Settings
from app.core.runtime import Runtime
from app.core.signing import sign
from app.jobs.models import Job
from app.jobs.queue import RetryLater
from app.jobs.worker import Heartbeat
from app.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent
from app.webhooks.service import signing_secrets

logger = logging.getLogger(__name__)
USER_AGENT = "mutualaid-webhooks/1"


def event_body(event: WebhookEvent) -> bytes:
    return json.dumps(
        {
            "id": str(event.id),
            "type": event.type,
            "created_at": event.created_at.isoformat().replace("+00:00", "Z"),
            "data": event.data,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()


def retry_delay(settings: Settings, attempts: int) -> float:
    """Wait after the `attempts`-th failure: base, doubled each time, capped."""
    return float(
        min(
            settings.webhook_retry_max_seconds,
            settings.webhook_retry_base_seconds * 2 ** min(attempts - 1, 30),
        )
    )


async def run_delivery_job(runtime: Runtime, job: Job, heartbeat: Heartbeat) -> None:
    delivery_id = uuid.UUID(job.payload["delivery_id"])
    async with runtime.db.reader() as session:
        found = (
            await session.execute(
                select(WebhookDelivery, WebhookEvent, WebhookEndpoint)
                .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
                .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
                .where(WebhookDelivery.id == delivery_id)
            )
        ).first()
    if found is None:
        return
    delivery, event, endpoint = found
    if delivery.status != DeliveryStatus.PENDING.value:
        return  # delivered already (a retried job), or cancelled with its endpoint
    if endpoint.disabled_at is not None:
        await _finish(runtime, delivery, DeliveryStatus.CANCELLED, None, None)
        return
    status_code, error = await _send(runtime, event, endpoint, delivery.attempts + 1)
    if status_code is not None and 200 <= status_code < 300:
        await _finish(runtime, delivery, DeliveryStatus.DELIVERED, status_code, None)
        return
    attempts = delivery.attempts + 1
    deadline = event.created_at + timedelta(hours=runtime.settings.webhook_retry_hours)
    delay = retry_delay(runtime.settings, attempts)
    if utc_now() + timedelta(seconds=delay) >= deadline:
        await _finish(runtime, delivery, DeliveryStatus.FAILED, status_code, error)
        logger.warning(
            "webhook delivery failed for good",
            extra={"delivery_id": str(delivery.id), "attempts": attempts, "error": error},
        )
        return
    await _record_attempt(runtime, delivery, status_code, error)
    raise RetryLater(delay, error or f"http_{status_code}")


async def _send(
    runtime: Runtime, event: WebhookEvent, endpoint: WebhookEndpoint, attempt: int
) -> tuple[int | None, str | None]:
    """POST the event; the answer's status, or None and an error code."""
    settings = runtime.settings
    body = event_body(event)
    timestamp = int(time.time())  # the real clock: receivers check freshness against theirs
    signatures = ",".join(
        f"v1={sign(secret, timestamp, body)}"
        for secret in signing_secrets(endpoint, runtime.cipher, utc_now())
    )
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Signature": f"t={timestamp},{signatures}",
        "X-Event-Id": str(event.id),
        "X-Event-Type": event.type,
        "X-Delivery-Attempt": str(attempt),
        # Never reused: a pooled connection is keyed by the pinned address, and its TLS name
        # was checked for whichever host opened it.
        "Connection": "close",
    }
    try:
        destination = await destinations.check(
            endpoint.url,
            allow_private=settings.webhook_allow_private_urls,
            resolve=destinations.system_resolver,
        )
    except destinations.DestinationRefused as exc:
        return None, exc.code
    request = destinations.pinned_request(
        runtime.http, destination, body, headers, settings.webhook_timeout_seconds
    )
    try:
        # One deadline for the whole attempt: per-read timeouts alone let a receiver that
        # drips a byte at a time hold the worker for ever.
        async with asyncio.timeout(settings.webhook_timeout_seconds):
            response = await runtime.http.send(request, follow_redirects=False, stream=True)
            await response.aclose()  # the answer's body is not needed, however large it is
    except (TimeoutError, httpx.TimeoutException):
        return None, "timeout"
    except httpx.HTTPError as exc:
        return None, type(exc).__name__
    return response.status_code, None


async def _record_attempt(
    runtime: Runtime, delivery: WebhookDelivery, status_code: int | None, error: str | None
) -> None:
    async with runtime.db.writer() as session:
        await session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id == delivery.id,
                WebhookDelivery.status == DeliveryStatus.PENDING.value,
            )
            .values(
                attempts=WebhookDelivery.attempts + 1,
                last_attempt_at=utc_now(),
                last_status_code=status_code,
                last_error=error,
            )
        )
        await session.commit()


async def _finish(
    runtime: Runtime,
    delivery: WebhookDelivery,
    status: DeliveryStatus,
    status_code: int | None,
    error: str | None,
) -> None:
    now = utc_now()
    attempted = status is not DeliveryStatus.CANCELLED
    async with runtime.db.writer() as session:
        await session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id == delivery.id,
                WebhookDelivery.status == DeliveryStatus.PENDING.value,
            )
            .values(
                status=status.value,
                finished_at=now,
                **(
                    {
                        "attempts": WebhookDelivery.attempts + 1,
                        "last_attempt_at": now,
                        "last_status_code": status_code,
                        "last_error": error,
                    }
                    if attempted
                    else {}
                ),
            )
        )
        await session.commit()
