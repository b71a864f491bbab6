"""Writing coverage events into the outbox, inside the transaction that changes cover.

An event is written only for a platform that has an endpoint at that moment, one per worker
account the member holds there, with one delivery (and one job) per endpoint. Because all of
it is part of the change's own transaction, an event exists exactly when the change committed:
never an event for cover that was rolled back, never cover without its event.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import utc_now
from app.jobs.queue import enqueue
from app.members.models import PlatformWorker
from app.webhooks.models import (
    DeliveryStatus,
    EventType,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)

DELIVERY_JOB = "webhooks.deliver"
# A delivery job stops on its own when the retry window closes; this only bounds a handler
# that keeps crashing.
DELIVERY_JOB_MAX_ATTEMPTS = 100


@dataclass(frozen=True)
class CoverageChange:
    member_id: uuid.UUID
    type: EventType
    plan_code: str
    starts_on: date
    ends_on: date


async def emit(session: AsyncSession, changes: Sequence[CoverageChange]) -> int:
    """Add the events (and their deliveries) for these changes; the number of events added."""
    if not changes:
        return 0
    member_ids = {change.member_id for change in changes}
    rows = await session.execute(
        select(
            PlatformWorker.member_id,
            PlatformWorker.platform_code,
            PlatformWorker.platform_worker_id,
            WebhookEndpoint.id,
        )
        .join(WebhookEndpoint, WebhookEndpoint.platform_code == PlatformWorker.platform_code)
        .where(PlatformWorker.member_id.in_(member_ids), WebhookEndpoint.disabled_at.is_(None))
        .order_by(PlatformWorker.platform_code, PlatformWorker.platform_worker_id)
    )
    accounts: dict[uuid.UUID, dict[tuple[str, str], list[uuid.UUID]]] = {}
    for member_id, platform_code, worker_id, endpoint_id in rows:
        accounts.setdefault(member_id, {}).setdefault((platform_code, worker_id), []).append(
            endpoint_id
        )
    now = utc_now()
    events: list[dict[str, Any]] = []
    deliveries: list[dict[str, Any]] = []
    for change in changes:
        for (platform_code, worker_id), endpoint_ids in accounts.get(change.member_id, {}).items():
            event_id = uuid.uuid4()
            events.append(
                {
                    "id": event_id,
                    "platform_code": platform_code,
                    "member_id": change.member_id,
                    "type": change.type.value,
                    "data": {
                        "platform_worker_id": worker_id,
                        "plan_code": change.plan_code,
                        "starts_on": change.starts_on.isoformat(),
                        "ends_on": change.ends_on.isoformat(),
                    },
                    "created_at": now,
                }
            )
            deliveries.extend(
                {
                    "id": uuid.uuid4(),
                    "event_id": event_id,
                    "endpoint_id": endpoint_id,
                    "status": DeliveryStatus.PENDING.value,
                    "attempts": 0,
                    "created_at": now,
                }
                for endpoint_id in endpoint_ids
            )
    if events:
        await session.execute(insert(WebhookEvent), events)
        await session.execute(insert(WebhookDelivery), deliveries)
        for delivery in deliveries:
            enqueue(
                session,
                DELIVERY_JOB,
                {"delivery_id": str(delivery["id"])},
                max_attempts=DELIVERY_JOB_MAX_ATTEMPTS,
                # Receivers take turns: one that hangs does not hold the others' deliveries.
                fair_key=f"webhook:{delivery['endpoint_id']}",
            )
    return len(events)
