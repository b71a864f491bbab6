"""Webhooks: the settings that let them reach 127.0.0.1 over plain HTTP and retry at once,
registering an endpoint, reading the deliveries back, and the cover whose start or end a
platform hears of (paid for over HTTP, or seeded straight into the tables)."""

from __future__ import annotations

import time
import uuid
from datetime import date

from sqlalchemy import select

from app.clients.service import create_client
from app.core.policy import Role
from app.demo.cover import Seed, add_covered_members, add_paid_period
from app.plans import DEFAULT_PLAN_CODE, in_force
from app.webhooks.models import WebhookDelivery, WebhookEvent
from tests.support.payments import enrol_and_order, notification, notify

PLAN = in_force(DEFAULT_PLAN_CODE, date(2026, 1, 1))
TEST_SETTINGS = {
    "MUTUALAID_WEBHOOK_ALLOW_PRIVATE_URLS": "true",
    "MUTUALAID_WEBHOOK_RETRY_BASE_SECONDS": "0",
    "MUTUALAID_WEBHOOK_TIMEOUT_SECONDS": "2",
}


def fresh_key() -> dict[str, str]:
    """An `Idempotency-Key` header of its own, for a request that is not a retry."""
    return {"Idempotency-Key": f"hook-{uuid.uuid4()}"}


async def register(http, headers, url: str) -> dict:
    response = await http.post(
        "/v1/platform/webhooks",
        json={"url": url},
        headers=headers | fresh_key(),
    )
    assert response.status_code == 201, response.text
    return response.json()


async def deliveries(db) -> list[tuple[WebhookDelivery, WebhookEvent]]:
    async with db.reader() as session:
        rows = await session.execute(
            select(WebhookDelivery, WebhookEvent)
            .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
            .order_by(WebhookDelivery.created_at)
        )
        return [tuple(row) for row in rows]


async def pay_for_cover(http, citizen) -> None:
    _, order = await enrol_and_order(http, citizen)
    paid = await notify(http, notification(order))
    assert paid.status_code == 200, paid.text


async def seeded(db, runtime, starts_on: date, *, renewed: bool = False):
    async with db.writer() as session:
        issued = await create_client(session, role=Role.CITIZEN_APP, name="seed")
        [member] = await add_covered_members(
            session,
            runtime.cipher,
            Seed(PLAN, starts_on, issued.client.id, "demo-delivery"),
            [int(time.time_ns() % 1_000_000)],
        )
        if renewed:
            await add_paid_period(
                session,
                runtime.cipher,
                Seed(
                    PLAN,
                    starts_on.replace(year=starts_on.year + 1),
                    issued.client.id,
                    "demo-delivery",
                ),
                member.member_id,
                member.platform_worker_id,
                continues_previous=True,
            )
        await session.commit()
    return member
