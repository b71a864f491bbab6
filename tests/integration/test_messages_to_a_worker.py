"""Acceptance of the messages to workers, on both databases, with real processes: `mutualaid
serve` and `mutualaid worker`, the simulated platform (`platform-sim`), payment gateway
(`gateway-sim`) and SMS gateway (`sms-sim`). One rider enrols, pays, files a disability claim
that lacks documents, completes it, an examiner decides it, finance approves the payout and the
gateway pays it. The SMS gateway received exactly the five messages of those events, in order,
to the rider's phone, each once, and none names a disease, a grade, a death or an ID number.

The service's clock is fixed (MUTUALAID_CLOCK): the API and the worker are started again with
it moved on 17 days, so that the accident falls inside the cover paid for on the first day.
"""

from __future__ import annotations

import json
import uuid
from contextlib import contextmanager
from datetime import date, datetime, timedelta

import httpx

from app.core.clock import SHANGHAI
from app.core.policy import Role
from app.notifications.templates import short_ref
from app.platforms.schemas import PlatformIn
from app.platforms.service import add_platform
from tests.support.claims import documents
from tests.support.processes import (
    environment,
    free_port,
    running,
    start,
    wait_for,
    wait_until_serving,
)
from tests.support.rules import id_number
from tests.support.service import TEST_PAYMENT_SECRET, bearer
from tests.support.sms import SECRET, forbidden_in

ENROLS_AT = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)
CLAIMS_AT = ENROLS_AT + timedelta(days=17)
RIDER_ID = id_number(date(1990, 5, 20), address="310104", sequence="517")
PHONE = "13761234567"
RIDER = {
    "platform_worker_id": "rider-sms",
    "id_number": RIDER_ID,
    "name": "周小舟",
    "city": "shanghai",
    "work_type": "food_delivery",
    "orders_last_7_days": 40,
    "last_order_at": (ENROLS_AT - timedelta(hours=3)).isoformat(),
}
ACCOUNT = {"kind": "bank", "account_no": "6222000000000931", "holder_name": "周小舟"}


class World:
    """The simulators, running for the whole test; the service, started at a given clock."""

    def __init__(self, settings, tmp_path) -> None:
        self.settings = settings
        self.ports = {name: free_port() for name in ("service", "gateway", "sms", "platform")}
        self.url = {name: f"http://127.0.0.1:{port}" for name, port in self.ports.items()}
        workers_file = tmp_path / "workers.json"
        workers_file.write_text(json.dumps([RIDER]), encoding="utf-8")
        self.workers_file = workers_file

    def env(self, clock: datetime) -> dict[str, str]:
        return environment(self.settings) | {
            "MUTUALAID_CLOCK": clock.isoformat(),
            "MUTUALAID_GATEWAY_URL": self.url["gateway"],
            "PAYMENT_NOTIFICATION_SECRETS": TEST_PAYMENT_SECRET,
            "MUTUALAID_SMS_URL": self.url["sms"],
            "MUTUALAID_SMS_SECRET": SECRET,
            "MUTUALAID_IN_PROCESS_WORKER": "false",
        }

    def simulators(self):
        env = self.env(ENROLS_AT)
        return (
            start(["sms-sim", "--port", str(self.ports["sms"]), "--secret", SECRET], env),
            # The gateway only pays the payout, on the claim's day: it keeps that clock.
            start(
                [
                    *("gateway-sim", "--port", str(self.ports["gateway"])),
                    *("--notify-url", self.url["service"], "--secret", TEST_PAYMENT_SECRET),
                ],
                self.env(CLAIMS_AT),
            ),
            start(
                [
                    *("platform-sim", "--port", str(self.ports["platform"])),
                    *("--workers", str(self.workers_file)),
                ],
                env,
            ),
        )

    @contextmanager
    def service(self, clock: datetime):
        env = self.env(clock)
        server = start(["serve", "--port", str(self.ports["service"])], env)
        worker = start(["worker", "--poll-seconds", "0.05"], env)
        with running(server, worker):
            yield


async def test_one_riders_year_in_messages(settings, db, runtime, api_key, tmp_path):
    world = World(settings, tmp_path)
    async with db.writer() as session:
        await add_platform(session, runtime.cipher, platform(world), None)
        await session.commit()
    keys = {
        "citizen": bearer(await api_key(Role.CITIZEN_APP)),
        "examiner": bearer(await api_key(Role.EXAMINER)),
        "finance": bearer(await api_key(Role.FINANCE)),
    }

    with running(*world.simulators()):
        for name in ("sms", "gateway"):
            await wait_until_serving(world.url[name])
        await wait_until_answering(world.url["platform"])
        async with httpx.AsyncClient(timeout=30) as http:
            with world.service(ENROLS_AT):
                await wait_until_serving(world.url["service"])
                enrolment = await enrol_and_pay(http, world, keys)
                await received(http, world, 2)
            with world.service(CLAIMS_AT):
                await wait_until_serving(world.url["service"])
                claim_id = await claim_decided_and_paid(http, world, keys, enrolment)
                messages = await received(http, world, 5)
            calls = (await http.get(f"{world.url['sms']}/_sim/calls")).json()

    claim_ref = short_ref(uuid.UUID(claim_id))
    paid_on = CLAIMS_AT.date()  # the gateway pays on its clock, the claim's day
    assert [m["text"] for m in messages] == [
        f"【职工互助保障】您的参保申请（编号{short_ref(uuid.UUID(enrolment['id']))}）已通过审核，"
        "请在随申办完成缴费，保障自缴费次日起生效。",
        "【职工互助保障】保费已到账，您的互助保障自2026年11月24日起生效，至2027年11月23日止。",
        f"【职工互助保障】您的理赔申请（编号{claim_ref}）尚缺材料：鉴定材料、事故证明。"
        "请在随申办补交。",
        f"【职工互助保障】您的理赔申请（编号{claim_ref}）已审核通过，给付金额60000.00元，"
        "支付后另行告知。",
        f"【职工互助保障】理赔申请（编号{claim_ref}）的给付款60000.00元已于"
        f"{paid_on.year}年{paid_on.month}月{paid_on.day}日支付，请注意查收。",
    ]
    assert {m["phone"] for m in messages} == {PHONE}
    assert [m["calls"] for m in messages] == [1] * 5
    assert len(calls) == 5  # no message sent twice, none retried
    for message in messages:
        assert forbidden_in(message["text"]) == []
        assert RIDER_ID not in message["text"]
        assert "周" not in message["text"]


def platform(world: World) -> PlatformIn:
    return PlatformIn(
        code="sms-delivery",
        name="sms-delivery",
        work_types=["food_delivery"],
        verify_url=f"{world.url['platform']}/verify",
    )


async def enrol_and_pay(http, world: World, keys) -> dict:
    service = world.url["service"]
    applied = await http.post(
        f"{service}/v1/enrolments",
        json={
            "plan_code": "shanghai-new-employment-e",
            "id_number": RIDER_ID,
            "name": "周小舟",
            "phone": PHONE,
            "platform_code": "sms-delivery",
            "platform_worker_id": "rider-sms",
            "work_type": "food_delivery",
            "union": {"member_number": "XH-2026-0931"},
            "consent": {"sensitive_personal_data": True},
        },
        headers=keys["citizen"] | {"Idempotency-Key": "apply-sms"},
    )
    assert applied.status_code == 201, applied.text
    enrolment = applied.json()
    assert enrolment["status"] == "awaiting_payment"
    order = await http.post(
        f"{service}/v1/enrolments/{enrolment['id']}/payment-orders",
        headers=keys["citizen"] | {"Idempotency-Key": "order-sms"},
    )
    assert order.status_code == 201, order.text
    paid = await http.post(
        f"{world.url['gateway']}/_sim/payments",
        json={
            "payment_order_id": order.json()["id"],
            "amount_fen": order.json()["amount_fen"],
            "paid_at": ENROLS_AT.isoformat(),
        },
    )
    assert paid.status_code == 201, paid.text
    return enrolment


async def claim_decided_and_paid(http, world: World, keys, enrolment: dict) -> str:
    service = world.url["service"]
    body = {
        "member_id": enrolment["member_id"],
        "benefit": "accidental_disability",
        "event": {"kind": "accident", "occurred_on": "2026-12-01", "ref": "crash-1"},
        "facts": {"assessed_on": "2026-12-08", "injuries": [{"grade": 10}]},
        "documents": documents("id_proof"),
        "payee_account": ACCOUNT,
    }
    filed = await http.post(
        f"{service}/v1/claims", json=body, headers=keys["citizen"] | {"Idempotency-Key": "c-1"}
    )
    assert filed.status_code == 201, filed.text
    claim = filed.json()
    assert claim["status"] == "pending_documents"
    completed = await http.post(
        f"{service}/v1/claims/{claim['id']}/documents",
        json={"documents": documents("disability_certificate", "accident_proof")},
        headers=keys["citizen"],
    )
    assert completed.status_code == 200, completed.text
    assert completed.json()["status"] == "pending_review"
    decided = await http.post(
        f"{service}/v1/claims/{claim['id']}/review",
        json={"decision": "approve", "facts": body["facts"]},
        headers=keys["examiner"],
    )
    assert decided.status_code == 200, decided.text
    payout = decided.json()["payout"]
    assert (payout["amount_fen"], payout["status"]) == (6_000_000, "awaiting_approval")
    approved = await http.post(
        f"{service}/v1/payouts/{payout['id']}/approve", headers=keys["finance"]
    )
    assert approved.status_code == 200, approved.text

    async def paid():
        shown = await http.get(f"{service}/v1/payouts/{payout['id']}", headers=keys["finance"])
        return shown.json()["status"] == "paid"

    await wait_for(paid, within=30, step=0.05)
    return claim["id"]


async def wait_until_answering(url: str) -> None:
    """The platform simulator has no health route: any HTTP answer will do."""

    async def answers():
        async with httpx.AsyncClient() as http:
            try:
                return (await http.get(url)).status_code > 0
            except httpx.TransportError:
                return False

    await wait_for(answers, within=30, step=0.1)


async def received(http, world: World, count: int) -> list[dict]:
    """The messages the SMS gateway received, once there are `count` (and no more)."""

    async def enough():
        kept = (await http.get(f"{world.url['sms']}/_sim/messages")).json()
        return kept if len(kept) >= count else None

    kept = await wait_for(enough, within=30, step=0.05)
    assert len(kept) == count, [m["text"] for m in kept]
    return kept
