"""A real `mutualaid worker` process killed while a platform's receiver holds a webhook POST
unanswered, on PostgreSQL: once the dead worker's lease runs out another worker sends the same
event again, byte for byte, and the delivery ends `delivered`, exactly once in the database.

The event comes the way it does in production: the worker's timed sweep finds a period that
ended (the clock is at 23 November 2026, the seeded cover ended on 31 December 2025) and writes
a `coverage.ended` event for the platform's registered endpoint.
"""

from __future__ import annotations

import json
import signal
from datetime import date

import pytest
from sqlalchemy import select

from app.core.policy import Role
from app.jobs.models import Job, JobStatus
from app.main import create_app
from app.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEvent
from app.webhooks.outbox import DELIVERY_JOB
from tests.support.claims import NOW, PLAN
from tests.support.processes import environment, running, start, wait_for
from tests.support.receiver import running_receiver
from tests.support.seeding import covered_member
from tests.support.service import asgi_client, bearer, make_settings

pytestmark = pytest.mark.only_backend("postgresql")

LEASE_SECONDS = 2


@pytest.fixture
async def ended_cover(db, runtime):
    """The platform `demo-delivery` and a worker of it whose only cover ended in 2025."""
    return await covered_member(db, runtime, number=626262, starts_on=date(2025, 1, 1))


WEBHOOK_SETTINGS = {
    "MUTUALAID_WEBHOOK_ALLOW_PRIVATE_URLS": "true",
    "MUTUALAID_WEBHOOK_RETRY_BASE_SECONDS": "0",
    # Far longer than the test waits: only the kill ends the first attempt.
    "MUTUALAID_WEBHOOK_TIMEOUT_SECONDS": "60",
}


async def register_webhook(settings, var_dir, api_key, url: str) -> dict:
    """Register `url` for `demo-delivery` through the API, as the platform would."""
    platform = bearer(await api_key(Role.PLATFORM, "demo-delivery", "demo-delivery-api"))
    application = create_app(make_settings(settings.database_url, var_dir, **WEBHOOK_SETTINGS))
    try:
        async with asgi_client(application) as http:
            response = await http.post(
                "/v1/platform/webhooks",
                json={"url": url},
                headers=platform | {"Idempotency-Key": "hook-worker-kill"},
            )
    finally:
        await application.state.runtime.close()
    assert response.status_code == 201, response.text
    return response.json()


async def _delivery_job(db) -> Job | None:
    async with db.reader() as session:
        return (await session.scalars(select(Job).where(Job.kind == DELIVERY_JOB))).first()


async def test_a_worker_killed_mid_delivery_is_replaced_and_the_event_delivered_once(
    settings, test_var_dir, db, ended_cover, api_key
):
    env = (
        environment(settings)
        | WEBHOOK_SETTINGS
        | {"MUTUALAID_CLOCK": NOW.isoformat(), "MUTUALAID_LOG_LEVEL": "ERROR"}
    )
    worker_args = [
        "worker",
        "--poll-seconds",
        "0.05",
        "--lease-seconds",
        str(LEASE_SECONDS),
    ]
    with running_receiver(hold_first=True) as receiver:
        await register_webhook(settings, test_var_dir, api_key, receiver.url)

        first = start(worker_args, env)
        with running(first):

            async def arrived() -> bool:
                return bool(receiver.received)

            await wait_for(arrived, within=30)
            held = await _delivery_job(db)
            assert held is not None
            assert held.status == JobStatus.RUNNING.value
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)

        # The dead worker's lease, as it left it: nobody may take the job over before this.
        lapsed = await _delivery_job(db)
        assert lapsed is not None
        assert (lapsed.status, lapsed.locked_by) == (JobStatus.RUNNING.value, held.locked_by)
        assert lapsed.locked_until is not None
        async with db.reader() as session:
            [(pending, _)] = (
                await session.execute(
                    select(WebhookDelivery, WebhookEvent).join(
                        WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id
                    )
                )
            ).all()
        assert pending.status == DeliveryStatus.PENDING.value

        receiver.release.set()  # from now on the receiver answers 200 at once
        second = start(worker_args, env)
        with running(second):

            async def delivered_and_done() -> bool:
                job = await _delivery_job(db)
                return job is not None and job.status == JobStatus.DONE.value

            # (The second worker swept for ended cover too, before it took any job.)
            await wait_for(delivered_and_done, within=60, step=0.05)
        arrivals = list(receiver.received)

    assert len(arrivals) == 2, [a.headers for a in arrivals]
    before, after = arrivals
    assert after.at > lapsed.locked_until  # taken over only once the lease ran out
    assert after.headers["x-event-id"] == before.headers["x-event-id"]
    assert after.body == before.body
    event = json.loads(after.body)
    assert event["id"] == after.headers["x-event-id"]
    assert event["type"] == "coverage.ended"
    assert event["data"] == {
        "platform_worker_id": ended_cover.platform_worker_id,
        "plan_code": PLAN.code,
        "starts_on": "2025-01-01",
        "ends_on": "2025-12-31",
    }

    async with db.reader() as session:
        rows = (
            await session.execute(
                select(WebhookDelivery, WebhookEvent).join(
                    WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id
                )
            )
        ).all()
        jobs = (await session.scalars(select(Job).where(Job.kind == DELIVERY_JOB))).all()
    [(delivery, stored_event)] = rows
    assert str(stored_event.id) == event["id"]
    assert delivery.id == pending.id
    assert (delivery.status, delivery.last_status_code) == (DeliveryStatus.DELIVERED.value, 200)
    [job] = jobs
    assert job.status == JobStatus.DONE.value
    assert job.attempts == 2  # claimed by the dead worker, then by the second
    assert job.locked_by is None
