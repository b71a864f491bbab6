"""A payment gateway in one process, for demos and tests (`mutualaid gateway-sim`).

It takes transfers and refunds as the real one does (signed, idempotent by id), answers
`Accepted`, then sends the service its signed notification of the outcome. Tests steer it through
`/_sim/...`: outcome rules, held calls, returns, premium payments, faults and bill lines. Every
route of the contract is in `contract.py`; this module is the behaviour behind them.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Literal

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ValidationError

from app.core.clock import SHANGHAI
from app.core.errors import Unauthorized
from app.core.signing import verify
from app.gateway.contract import (
    ID_REUSED,
    PAYMENT_NOTIFICATIONS_PATH,
    PAYOUT_NOTIFICATIONS_PATH,
    REFUND_NOTIFICATIONS_PATH,
    PaymentNotification,
    PayoutNotification,
    RefundIn,
    RefundNotification,
    TransferIn,
)
from app.gateway.sim_books import DEFAULT_FAILURE, Books, IdReused, Instruction, identify
from app.gateway.sim_notify import Notifier
from app.gateway.sim_routes import add_routes

Fault = Literal["error", "garbage"]


def _real_now() -> datetime:
    return datetime.now(UTC)


class GatewaySim:
    """The simulator's state and behaviour; the routes only translate HTTP to these calls."""

    def __init__(
        self, notifier: Notifier, secret: bytes, now: Callable[[], datetime] = _real_now
    ) -> None:
        self.books = Books()
        self.notifier = notifier
        self.secret = secret
        self._now = now
        self.faults: list[Fault] = []

    def now(self) -> datetime:
        """Shanghai time, as a Chinese gateway writes its moments."""
        return self._now().astimezone(SHANGHAI)

    def refusal(self, request: Request, raw: bytes) -> JSONResponse | None:
        """401 unless our secret signed the body; no check when the simulator has no secret."""
        if not self.secret:
            return None
        try:
            verify(request.headers.get("X-Signature"), raw, [self.secret], time.time())
        except Unauthorized as exc:
            return JSONResponse({"code": exc.instance_code}, status_code=401)
        return None

    async def instruct(self, request: Request, model: type[TransferIn | RefundIn]) -> Response:
        raw = await request.body()
        refused = self.refusal(request, raw)
        if refused is not None:
            return refused
        fault = self.faults.pop(0) if self.faults else None
        if fault == "error":
            return JSONResponse({"code": "gateway_error"}, status_code=503)
        try:
            body = model.model_validate_json(raw)
        except ValidationError as exc:
            fields = [".".join(map(str, e["loc"])) for e in exc.errors()]
            return JSONResponse({"code": "invalid_body", "fields": fields}, status_code=422)
        _, ref = identify(body)
        if request.headers.get("Idempotency-Key", ref) != ref:
            return JSONResponse({"code": "idempotency_key_mismatch"}, status_code=400)
        try:
            instruction, first = self.books.receive(body)
        except IdReused:
            return JSONResponse({"code": ID_REUSED}, status_code=409)
        if first:
            self.begin(instruction)
        if instruction.status == "held":
            await instruction.released.wait()
        if fault == "garbage":
            return JSONResponse({"ok": True, "ref": instruction.accepted.gateway_ref})
        return JSONResponse(instruction.accepted.model_dump())

    def begin(self, instruction: Instruction) -> None:
        rule = instruction.rule
        if rule.outcome == "hold":
            instruction.status = "held"
        elif rule.outcome == "fail":
            instruction.status = "failed"
            self.notify(instruction, "failed", rule.reason or DEFAULT_FAILURE)
        else:
            self.books.pay(instruction, self.now())
            self.notify(instruction, "succeeded", None)

    def release(self) -> int:
        """Answer every held call; each then proceeds as `succeed`."""
        held = self.books.held()
        for instruction in held:
            self.books.pay(instruction, self.now())
            self.notify(instruction, "succeeded", None)
            instruction.released.set()
        return len(held)

    def give_back(self, instruction: Instruction, reason: str, at: datetime | None) -> None:
        moment = (at or self.now()).astimezone(SHANGHAI)
        self.books.give_back(instruction, moment)
        self.notify(instruction, "returned", reason, moment)

    def notify(
        self,
        instruction: Instruction,
        status: Literal["succeeded", "failed", "returned"],
        reason: str | None,
        at: datetime | None = None,
    ) -> None:
        occurred_at = at or self.now()
        body = instruction.body
        note: BaseModel
        if isinstance(body, TransferIn):
            note = PayoutNotification(
                event_id=_event_id(),
                transfer_id=body.transfer_id,
                payout_id=body.reference,
                status=status,
                amount_fen=body.amount_fen,
                occurred_at=occurred_at,
                reason=reason,
                channel=body.account.kind,
            )
            self.notifier.send(PAYOUT_NOTIFICATIONS_PATH, note.model_dump(mode="json"))
            return
        assert status != "returned"
        note = RefundNotification(
            event_id=_event_id(),
            refund_id=body.refund_id,
            status=status,
            amount_fen=body.amount_fen,
            occurred_at=occurred_at,
            reason=reason,
        )
        self.notifier.send(REFUND_NOTIFICATIONS_PATH, note.model_dump(mode="json"))

    def collect(
        self, payment_order_id: str, amount_fen: int, paid_at: datetime | None
    ) -> dict[str, str]:
        """A premium paid through the gateway: a bill line and the payment notification."""
        moment = (paid_at or self.now()).astimezone(SHANGHAI)
        gateway_ref = self.books.collect(payment_order_id, amount_fen, moment)
        note = PaymentNotification(
            event_id=_event_id(),
            payment_order_id=payment_order_id,
            status="succeeded",
            amount_fen=amount_fen,
            paid_at=moment,
            channel="alipay",
        )
        self.notifier.send(PAYMENT_NOTIFICATIONS_PATH, note.model_dump(mode="json"))
        return {"payment_order_id": payment_order_id, "gateway_ref": gateway_ref}


def _event_id() -> str:
    return f"evt_{uuid.uuid4().hex}"


def create_gateway_simulator(
    notify_url: str,
    secret: bytes,
    *,
    notify_transport: httpx.AsyncBaseTransport | None = None,
    now: Callable[[], datetime] = _real_now,
    backoff_seconds: float = 0.2,
) -> FastAPI:
    """The simulator as an ASGI app. `notify_url` is the service's base URL; `secret` signs the
    notifications and, when not empty, must sign our calls too. `notify_transport` lets a test
    deliver notifications in-process; `now` lets it choose the day a payment or return happens."""
    sim = GatewaySim(Notifier(notify_url, secret, notify_transport, backoff_seconds), secret, now)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await sim.notifier.close()

    app = FastAPI(title="mutualaid payment gateway simulator", lifespan=lifespan)
    app.state.sim = sim
    add_routes(app, sim)
    return app
