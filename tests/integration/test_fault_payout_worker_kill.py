"""A job worker killed with SIGKILL while the gateway holds its transfer call open, on
PostgreSQL with real processes: another worker takes the job over once the lease has run out and
sends the same transfer id again; the gateway pays that id once, and the payout ends `paid` once,
posted once in the ledger."""

from __future__ import annotations

import signal
import uuid
from datetime import date

import httpx
import pytest
from sqlalchemy import func, select

from app.core.policy import Role
from app.jobs.models import Job, JobStatus
from app.ledger.models import LedgerEntry
from app.payouts.lifecycle import INSTRUCT_JOB
from tests.support.claims import NOW, claim, covered_members, seed
from tests.support.processes import (
    environment,
    free_port,
    running,
    start,
    wait_for,
    wait_until_serving,
)
from tests.support.service import TEST_PAYMENT_SECRET, bearer

pytestmark = pytest.mark.only_backend("postgresql")

LEASE_SECONDS = "2"
ACCOUNT = {"kind": "bank", "account_no": "6222000000000777", "holder_name": "张三"}


async def test_a_worker_killed_mid_transfer_pays_once(settings, db, runtime, api_key):
    [rider] = await covered_members(db, runtime, await seed(db, runtime))()
    citizen = bearer(await api_key(Role.CITIZEN_APP))
    finance = bearer(await api_key(Role.FINANCE))
    service_port, gateway_port = free_port(), free_port()
    service, gateway = f"http://127.0.0.1:{service_port}", f"http://127.0.0.1:{gateway_port}"
    env = environment(settings) | {
        "MUTUALAID_CLOCK": NOW.isoformat(),
        "MUTUALAID_GATEWAY_URL": gateway,
        "PAYMENT_NOTIFICATION_SECRETS": TEST_PAYMENT_SECRET,
        "MUTUALAID_IN_PROCESS_WORKER": "false",
        # Longer than the test waits: only the kill ends the first call.
        "MUTUALAID_GATEWAY_TIMEOUT_SECONDS": "60",
    }
    worker_args = ["worker", "--poll-seconds", "0.05", "--lease-seconds", LEASE_SECONDS]
    simulator_args = ["gateway-sim", "--port", str(gateway_port), "--notify-url", service]
    simulator = start([*simulator_args, "--secret", TEST_PAYMENT_SECRET], env)
    server = start(["serve", "--port", str(service_port)], env)
    with running(simulator, server):
        await wait_until_serving(gateway)
        await wait_until_serving(service)
        async with httpx.AsyncClient(base_url=service, timeout=30) as http:
            held = await http.post(
                f"{gateway}/_sim/rules", json={"kind": "transfer", "outcome": "hold"}
            )
            assert held.status_code == 201
            body = claim(rider, "accident_condolence", "accident", date(2026, 4, 1), "kill")
            filed = await http.post(
                "/v1/claims",
                json=body | {"payee_account": ACCOUNT},
                headers=citizen | {"Idempotency-Key": str(uuid.uuid4())},
            )
            payout_id = filed.json()["payout"]["id"]

            async def received(times: int):
                answer = (await http.get(f"{gateway}/_sim/instructions")).json()
                return answer if answer and answer[0]["received"] >= times else None

            first = start(worker_args, env)
            with running(first):
                await wait_for(lambda: received(1), within=30, step=0.05)
                first.send_signal(signal.SIGKILL)
                first.wait(timeout=10)

            second = start(worker_args, env)
            with running(second):
                # The same transfer id again, once the dead worker's lease is over.
                await wait_for(lambda: received(2), within=30, step=0.05)
                assert (await http.post(f"{gateway}/_sim/release")).json()["released"] == 1

                async def paid_and_done():
                    shown = (await http.get(f"/v1/payouts/{payout_id}", headers=finance)).json()
                    async with db.reader() as session:
                        job = await session.scalar(select(Job).where(Job.kind == INSTRUCT_JOB))
                    return shown["status"] == "paid" and job.status == JobStatus.DONE.value

                await wait_for(paid_and_done, within=30, step=0.05)
            [instruction] = (await http.get(f"{gateway}/_sim/instructions")).json()

    assert (instruction["received"], instruction["paid"]) == (2, 1)
    async with db.reader() as session:
        job = await session.scalar(select(Job).where(Job.kind == INSTRUCT_JOB))
        posted = await session.scalar(
            select(func.count())
            .select_from(LedgerEntry)
            .where(
                LedgerEntry.source_id == uuid.UUID(payout_id),
                LedgerEntry.movement == "transfer_paid",
            )
        )
    assert job.attempts == 2  # taken over from the dead worker
    assert posted == 1
