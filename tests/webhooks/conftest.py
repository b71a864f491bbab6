"""Webhook fixtures: the enrolment app (clock at 23 November 2026, 10:00 Shanghai, platforms
answering through the simulator) with webhooks allowed to reach 127.0.0.1 over plain HTTP and
retried at once, a job worker, and a platform client for `demo-delivery`."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.core.policy import Role
from app.handlers import JOB_HANDLERS
from app.jobs.worker import Worker
from app.webhooks.models import WebhookDelivery, WebhookEvent
from tests.conftest import bearer
from tests.enrolment import conftest as enrolment

# The enrolment fixtures, shared.
NOW = enrolment.NOW
WORKERS = enrolment.WORKERS
citizen = enrolment.citizen
http = enrolment.http
slow_platform_url = enrolment.slow_platform_url

TEST_SETTINGS = {
    "MUTUALAID_WEBHOOK_ALLOW_PRIVATE_URLS": "true",
    "MUTUALAID_WEBHOOK_RETRY_BASE_SECONDS": "0",
    "MUTUALAID_WEBHOOK_TIMEOUT_SECONDS": "2",
}


@pytest.fixture
def webhook_settings():
    """Overridden by tests that need other limits (a shorter retry window)."""
    return TEST_SETTINGS


@pytest.fixture
async def app(settings, test_var_dir, db, slow_platform_url, webhook_settings):
    application = await enrolment.make_enrol_app(
        settings,
        test_var_dir,
        db,
        now=NOW,
        workers=WORKERS,
        slow_url=slow_platform_url,
        **webhook_settings,
    )
    yield application
    await enrolment.close_app(application)


@pytest.fixture
async def delivery(api_key):
    return bearer(await api_key(Role.PLATFORM, "demo-delivery", "demo-delivery-api"))


@pytest.fixture
def run_jobs(app):
    """`await run_jobs()` runs every due job until none is left; the number run."""

    async def run(limit: int = 50) -> int:
        worker = Worker(app.state.runtime, JOB_HANDLERS, lease_seconds=30)
        done = 0
        while done < limit and await worker.run_once():
            done += 1
        return done

    return run


async def register(http, headers, url: str) -> dict:
    response = await http.post("/v1/platform/webhooks", json={"url": url}, headers=headers)
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
