"""An SMS gateway in one process, for demos and tests (`mutualaid sms-sim`).

It takes messages as the real one does: signed (when it has a secret), idempotent by
`message_id` (a repeat is answered the same and delivered once; the id with another body is
refused). It keeps every message it delivered, in the order received. Tests steer it through
`/_sim/...`: the next calls fail (503), are refused (422) or answered off-contract, and new
messages can be held unanswered until released (a worker can be killed mid-send).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.core.clock import SHANGHAI
from app.core.errors import Unauthorized
from app.core.signing import verify
from app.notifications.contract import ID_REUSED, MESSAGES_PATH, Accepted, MessageIn

Fault = Literal["error", "refuse", "garbage"]


def _real_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Delivered:
    body: MessageIn
    gateway_ref: str
    received_at: datetime
    calls: int = 1
    held: bool = False
    released: asyncio.Event = field(default_factory=asyncio.Event)

    def view(self) -> dict[str, Any]:
        return {
            "message_id": self.body.message_id,
            "phone": self.body.phone,
            "text": self.body.text,
            "gateway_ref": self.gateway_ref,
            "received_at": self.received_at.isoformat(),
            "calls": self.calls,
            "status": "held" if self.held else "delivered",
        }


class SmsSim:
    """The simulator's state and behaviour; the routes only translate HTTP to these calls."""

    def __init__(self, secret: bytes, now: Callable[[], datetime] = _real_now) -> None:
        self.secret = secret
        self._now = now
        self.messages: dict[str, Delivered] = {}
        self.calls: list[dict[str, Any]] = []
        self.faults: list[Fault] = []
        self.holding = False

    async def receive(self, request: Request) -> Response:
        raw = await request.body()
        refused = self._unsigned(request, raw)
        if refused is not None:
            return refused
        fault = self.faults.pop(0) if self.faults else None
        try:
            body = MessageIn.model_validate_json(raw)
        except ValidationError as exc:
            fields = [".".join(map(str, e["loc"])) for e in exc.errors()]
            return JSONResponse({"code": "invalid_body", "fields": fields}, status_code=422)
        self.calls.append({"message_id": body.message_id, "fault": fault})
        if fault == "error":
            return JSONResponse({"code": "gateway_error"}, status_code=503)
        if fault == "refuse":
            return JSONResponse({"code": "undeliverable"}, status_code=422)
        if request.headers.get("Idempotency-Key", body.message_id) != body.message_id:
            return JSONResponse({"code": "idempotency_key_mismatch"}, status_code=400)
        known = self._keep(body)
        if known is None:
            return JSONResponse({"code": ID_REUSED}, status_code=409)
        if known.held:
            await known.released.wait()
        if fault == "garbage":
            return JSONResponse({"ok": True, "ref": known.gateway_ref})
        accepted = Accepted(id=body.message_id, gateway_ref=known.gateway_ref, status="accepted")
        return JSONResponse(accepted.model_dump())

    def _unsigned(self, request: Request, raw: bytes) -> Response | None:
        """401 unless our secret signed the body; no check when the simulator has none."""
        if not self.secret:
            return None
        try:
            verify(request.headers.get("X-Signature"), raw, [self.secret], time.time())
        except Unauthorized as exc:
            return JSONResponse({"code": exc.instance_code}, status_code=401)
        return None

    def _keep(self, body: MessageIn) -> Delivered | None:
        """The message as delivered, once per id; None when the id came with another body."""
        known = self.messages.get(body.message_id)
        if known is None:
            known = self.messages[body.message_id] = Delivered(
                body, f"sms_{uuid.uuid4().hex[:16]}", self._now().astimezone(SHANGHAI)
            )
            known.held = self.holding
            return known
        if known.body != body:
            return None
        known.calls += 1
        return known

    def release(self) -> int:
        """Stop holding, and answer every held message (each delivered once)."""
        self.holding = False
        held = [m for m in self.messages.values() if m.held]
        for message in held:
            message.held = False
            message.released.set()
        return len(held)


class FaultIn(BaseModel):
    """The next `times` calls answer 503 untouched (`error`), 422 `undeliverable` untouched
    (`refuse`), or are taken and answered outside the contract (`garbage`)."""

    model_config = ConfigDict(extra="forbid")

    answer: Fault
    times: int = Field(default=1, ge=1, le=100)


def create_sms_simulator(secret: bytes, now: Callable[[], datetime] = _real_now) -> FastAPI:
    """The simulator as an ASGI app; `secret`, when not empty, must sign every call."""
    sim = SmsSim(secret, now)
    app = FastAPI(title="mutualaid SMS gateway simulator")
    app.state.sim = sim

    @app.post(MESSAGES_PATH)
    async def messages(request: Request) -> Response:
        return await sim.receive(request)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/_sim/messages")
    async def delivered() -> list[dict[str, Any]]:
        """What it received, in order, once per message id."""
        return [m.view() for m in sim.messages.values()]

    @app.get("/_sim/calls")
    async def calls() -> list[dict[str, Any]]:
        """Every signed call with a readable body, repeats and faults included."""
        return sim.calls

    @app.delete("/_sim/messages")
    async def forget() -> dict[str, int]:
        sim.release()
        sim.messages.clear()
        sim.calls.clear()
        sim.faults.clear()
        return {"messages": 0}

    @app.post("/_sim/faults", status_code=201)
    async def add_fault(fault: FaultIn) -> dict[str, int]:
        sim.faults.extend([fault.answer] * fault.times)
        return {"faults": len(sim.faults)}

    @app.post("/_sim/hold")
    async def hold() -> dict[str, bool]:
        """New messages are kept unanswered (but received) until `/_sim/release`."""
        sim.holding = True
        return {"holding": True}

    @app.post("/_sim/release")
    async def release() -> dict[str, int]:
        return {"released": sim.release()}

    return app
