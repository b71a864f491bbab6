"""A job worker killed with SIGKILL while the SMS gateway holds its call open, on PostgreSQL with
real processes (`serve`, `worker`, `sms-sim`): another worker takes the message over once the
dead worker's lease has run out and sends it again under the same id; the gateway delivers it
once, the message ends `sent`, and the phone's daily count has it once."""

from __future__ import annotations

import signal
import uuid
from datetime import date

import httpx
import pytest
from sqlalchemy import select

from app.core.policy import Role
from app.jobs.models import Job, JobStatus
from app.notifications.models import Notification, PhoneDay
from app.notifications.outbox import SEND_JOB
from tests.support.claims import NOW, claim, covered_members, seed
from tests.support.processes import (
    environment,
    free_port,
    running,
    start,
    wait_for,
    wait_until_serving,
)
from tests.support.service import bearer
from tests.support.sms import SECRET

pytestmark = pytest.mark.only_backend("postgresql")

LEASE_SECONDS = "2"


async def test_a_worker_killed_mid_send_sends_no_duplicate(settings, db, runtime, api_key):
    [rider] = await covered_members(db, runtime, await seed(db, runtime))()
    citizen = bearer(await api_key(Role.CITIZEN_APP))
    service_port, sms_port = free_port(), free_port()
    service, sms = f"http://127.0.0.1:{service_port}", f"http://127.0.0.1:{sms_port}"
    env = environment(settings) | {
        "MUTUALAID_CLOCK": NOW.isoformat(),
        "MUTUALAID_SMS_URL": sms,
        "MUTUALAID_SMS_SECRET": SECRET,
        "MUTUALAID_IN_PROCESS_WORKER": "false",
        # Longer than the test waits: only the kill ends the first call.
        "MUTUALAID_SMS_TIMEOUT_SECONDS": "60",
    }
    worker_args = ["worker", "--poll-seconds", "0.05", "--lease-seconds", LEASE_SECONDS]
    simulator = start(["sms-sim", "--port", str(sms_port), "--secret", SECRET], env)
    server = start(["serve", "--port", str(service_port)], env)
    with running(simulator, server):
        await wait_until_serving(sms)
        await wait_until_serving(service)
        async with httpx.AsyncClient(base_url=service, timeout=30) as http:
            assert (await http.post(f"{sms}/_sim/hold")).status_code == 200
            body = claim(rider, "accident_condolence", "accident", date(2026, 4, 1), "kill")
            filed = await http.post(
                "/v1/claims", json=body, headers=citizen | {"Idempotency-Key": str(uuid.uuid4())}
            )
            assert (filed.status_code, filed.json()["status"]) == (201, "approved")

            async def calls(times: int):
                answer = (await http.get(f"{sms}/_sim/calls")).json()
                return answer if len(answer) >= times else None

            first = start(worker_args, env)
            with running(first):
                await wait_for(lambda: calls(1), within=30, step=0.05)
                first.send_signal(signal.SIGKILL)
                first.wait(timeout=10)

            second = start(worker_args, env)
            with running(second):
                # The same message id again, once the dead worker's lease is over.
                await wait_for(lambda: calls(2), within=30, step=0.05)
                assert (await http.post(f"{sms}/_sim/release")).json() == {"released": 1}

                async def sent_and_done():
                    async with db.reader() as session:
                        message = await session.scalar(select(Notification))
                        job = await session.scalar(select(Job).where(Job.kind == SEND_JOB))
                    return message.status == "sent" and job.status == JobStatus.DONE.value

                await wait_for(sent_and_done, within=30, step=0.05)
            delivered = (await http.get(f"{sms}/_sim/messages")).json()
            made = (await http.get(f"{sms}/_sim/calls")).json()

    [message] = delivered
    assert (message["status"], message["calls"]) == ("delivered", 2)
    assert {c["message_id"] for c in made} == {message["message_id"]}
    async with db.reader() as session:
        stored = (await session.scalars(select(Notification))).one()
        job = await session.scalar(select(Job).where(Job.kind == SEND_JOB))
        [day] = (await session.scalars(select(PhoneDay))).all()
    assert str(stored.id) == message["message_id"]
    assert (stored.kind, stored.attempts) == ("claim_approved", 2)
    assert job.attempts == 2  # taken over from the dead worker
    assert day.messages == 1  # counted against the phone's cap once
