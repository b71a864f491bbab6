"""The payment gateway in tests: the simulator in-process (behind httpx's ASGI transport) or as a
real `mutualaid gateway-sim` process, our client pointed at it, and the notifications it sent."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from app.core.signing import verify
from app.gateway.client import GatewayClient, GatewayConfig
from app.gateway.contract import PAYOUT_NOTIFICATIONS_PATH, Account, RefundIn, TransferIn
from app.gateway.simulator import create_gateway_simulator
from tests.support.processes import wait_for
from tests.support.receiver import Receiver

SECRET = b"gateway-test-secret"
# 10:00 in Shanghai on 24 November 2026.
MORNING = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def transfer(transfer_id: str, amount_fen: int = 150_000, **account: str) -> TransferIn:
    return TransferIn(
        transfer_id=transfer_id,
        amount_fen=amount_fen,
        account=Account.model_validate(
            {"kind": "bank", "account_no": "6222020000001234", "holder_name": "张三"}
            | {"bank_name": "ICBC"}
            | account
        ),
        reference=f"payout-{transfer_id}",
    )


def refund(refund_id: str, amount_fen: int = 7200) -> RefundIn:
    return RefundIn(
        refund_id=refund_id, payment_order_id=f"order-{refund_id}", amount_fen=amount_fen
    )


@dataclass
class SimClock:
    """The simulator's "now", moved by the test (a return "days later")."""

    at: datetime = MORNING

    def __call__(self) -> datetime:
        return self.at


@dataclass
class InProcessGateway:
    app: object
    control: httpx.AsyncClient
    clock: SimClock
    tries: list[httpx.Request] = field(default_factory=list)
    delivered: list[httpx.Request] = field(default_factory=list)

    def client(self, secret: bytes = SECRET, **config: float) -> GatewayClient:
        """Our client, through the ASGI transport; every request it sends is counted in `tries`."""

        async def count(request: httpx.Request) -> None:
            self.tries.append(request)

        http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app),
            event_hooks={"request": [count]},
        )
        settings = {"timeout_seconds": 5.0, "retries": 2, "backoff_seconds": 0.0} | config
        return GatewayClient(GatewayConfig("http://gateway", secret, **settings), http)

    async def instruction(self, ref: str) -> dict:
        answer = await self.control.get("/_sim/instructions")
        return next(i for i in answer.json() if i["id"] == ref)


@contextlib.asynccontextmanager
async def in_process_gateway() -> AsyncIterator[InProcessGateway]:
    """The simulator on a test clock; its notifications are answered 200 and kept, in-process."""
    clock = SimClock()
    delivered: list[httpx.Request] = []

    def service(request: httpx.Request) -> httpx.Response:
        delivered.append(request)
        return httpx.Response(200, json={"outcome": "ok"})

    app = create_gateway_simulator(
        "http://service", SECRET, notify_transport=httpx.MockTransport(service), now=clock
    )
    control = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway")
    try:
        yield InProcessGateway(app, control, clock, delivered=delivered)
    finally:
        await control.aclose()
        await app.state.sim.notifier.close()


def signed_notifications(receiver: Receiver, path: str, secret: bytes = SECRET) -> list[dict]:
    """The bodies the receiver got on `path`, in arrival order, each signature checked."""
    bodies = []
    for received in list(receiver.received):
        if received.path != path:
            continue
        verify(received.headers.get("x-signature"), received.body, [secret], time.time())
        bodies.append(json.loads(received.body))
    return bodies


def service_url(receiver: Receiver) -> str:
    """The receiver's base URL: the simulator appends the service's notification paths."""
    return receiver.url.removesuffix("/hooks/mutualaid")


WITHIN = 10


@dataclass
class SimProcess:
    """A running `mutualaid gateway-sim`: our client for it, its controls, and the receiver
    standing in for the service."""

    client: GatewayClient
    control: httpx.AsyncClient
    receiver: Receiver

    async def rule(self, **rule: str) -> None:
        answer = await self.control.post("/_sim/rules", json=rule)
        assert answer.status_code == 201, answer.text

    async def payouts(self, transfer_id: str, count: int) -> list[dict]:
        """The transfer's payout notifications, once at least `count` have arrived."""

        async def arrived() -> list[dict]:
            notes = signed_notifications(self.receiver, PAYOUT_NOTIFICATIONS_PATH)
            mine = [n for n in notes if n["transfer_id"] == transfer_id]
            return mine if len(mine) >= count else []

        return await wait_for(arrived, within=WITHIN)

    async def instruction(self, ref: str) -> dict:
        answer = await self.control.get("/_sim/instructions")
        return next((i for i in answer.json() if i["id"] == ref), {})
