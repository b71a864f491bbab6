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
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from app.core.policy import Role
from app.jobs.models import Job, JobStatus
from app.main import create_app
from app.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEvent
from app.webhooks.outbox import DELIVERY_JOB
from tests.support.claims import NOW, PLAN
from tests.support.processes import environment, running, start, wait_for
from tests.support.seeding import covered_member
from tests.support.service import asgi_client, bearer, make_settings

pytestmark = pytest.mark.only_backend("postgresql")

LEASE_SECONDS = 2


@dataclass
class Arrival:
    at: datetime
    headers: dict[str, str]
    body: bytes


@dataclass
class HoldingReceiver:
    """Holds the first POST without answering until `release` is set; answers 200 after."""

    url: str = ""
    arrivals: list[Arrival] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)


@contextmanager
def holding_receiver() -> Iterator[HoldingReceiver]:
    receiver = HoldingReceiver()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with lock:
                receiver.arrivals.append(
                    Arrival(
                        datetime.now(UTC),
                        {k.lower(): v for k, v in self.headers.items()},
                        body,
                    )
                )
                first = len(receiver.arrivals) == 1
            if first:
                receiver.release.wait(timeout=120)
            try:
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except OSError:
                pass  # the sender is gone

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/mutualaid"
    try:
        yield receiver
    finally:
        receiver.release.set()
        server.shutdown()
        server.server_close()


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
            response = await http.post("/v1/platform/webhooks", json={"url": url}, headers=platform)
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
    with holding_receiver() as receiver:
        await register_webhook(settings, test_var_dir, api_key, receiver.url)

        first = start(worker_args, env)
        with running(first):

            async def arrived() -> bool:
                return bool(receiver.arrivals)

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
        arrivals = list(receiver.arrivals)

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
