"""The simulated gateway's routes: the contract's (`/transfers`, `/refunds`, `/bills`) and the
test controls under `/_sim/`, which a real gateway does not have."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any, Literal

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from app.core.clock import shanghai_date
from app.gateway.contract import BillLine, RefundIn, TransferIn, write_bill
from app.gateway.sim_books import Rule

if TYPE_CHECKING:
    from app.gateway.simulator import GatewaySim


# A field named `date` must not shadow the type its annotation names.
BillDate = date


class _Control(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReturnIn(_Control):
    reason: str = Field(default="account_closed", min_length=1, max_length=64)
    returned_at: AwareDatetime | None = None


class PaymentIn(_Control):
    payment_order_id: str = Field(min_length=1, max_length=64)
    amount_fen: int = Field(gt=0)
    paid_at: AwareDatetime | None = None


class FaultIn(_Control):
    """The next `times` calls to /transfers or /refunds answer 503 untouched (`error`), or are
    taken and answered outside the contract (`garbage`)."""

    answer: Literal["error", "garbage"]
    times: int = Field(default=1, ge=1, le=100)


class BillLinesIn(_Control):
    date: BillDate
    lines: list[BillLine]


class DropIn(_Control):
    date: BillDate
    our_ref: str


def add_routes(app: FastAPI, sim: GatewaySim) -> None:
    _contract_routes(app, sim)
    _steering_routes(app, sim)
    _record_routes(app, sim)


def _contract_routes(app: FastAPI, sim: GatewaySim) -> None:
    @app.post("/transfers")
    async def transfers(request: Request) -> Response:
        return await sim.instruct(request, TransferIn)

    @app.post("/refunds")
    async def refunds(request: Request) -> Response:
        return await sim.instruct(request, RefundIn)

    @app.get("/bills/{day}.csv")
    async def bill(day: date, request: Request) -> Response:
        """The day's bill (Shanghai date): what moved that day, injected lines, minus dropped."""
        refused = sim.refusal(request, b"")
        if refused is not None:
            return refused
        if day > shanghai_date(sim.now()):
            return JSONResponse({"code": "bill_not_ready"}, status_code=404)
        return Response(write_bill(sim.books.bill(day)), media_type="text/csv")

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}


def _steering_routes(app: FastAPI, sim: GatewaySim) -> None:
    """What the next instructions do, and what happens to those already taken."""
    books = sim.books

    @app.post("/_sim/rules", status_code=201)
    async def add_rule(rule: Rule) -> dict[str, int]:
        books.rules.append(rule)
        return {"rules": len(books.rules)}

    @app.delete("/_sim/rules")
    async def clear_rules() -> dict[str, int]:
        books.rules.clear()
        return {"rules": 0}

    @app.post("/_sim/faults", status_code=201)
    async def add_fault(fault: FaultIn) -> dict[str, int]:
        sim.faults.extend([fault.answer] * fault.times)
        return {"faults": len(sim.faults)}

    @app.post("/_sim/release")
    async def release() -> dict[str, int]:
        return {"released": sim.release()}

    @app.post("/_sim/transfers/{transfer_id}/return")
    async def give_back(transfer_id: str, body: ReturnIn) -> Response:
        instruction = books.instructions.get(("transfer", transfer_id))
        if instruction is None:
            return JSONResponse({"code": "not_found"}, status_code=404)
        if instruction.status != "succeeded":
            return JSONResponse({"code": "not_paid"}, status_code=409)
        sim.give_back(instruction, body.reason, body.returned_at)
        return JSONResponse(instruction.view())


def _record_routes(app: FastAPI, sim: GatewaySim) -> None:
    """What the gateway received and sent, premiums it collects, and its bills' lines."""
    books = sim.books

    @app.get("/_sim/instructions")
    async def instructions() -> list[dict[str, Any]]:
        return [i.view() for i in books.instructions.values()]

    @app.get("/_sim/notifications")
    async def notifications() -> list[dict[str, Any]]:
        return [{"path": n.path, "body": n.body, "answered": n.answered} for n in sim.notifier.sent]

    @app.post("/_sim/payments", status_code=201)
    async def collect(payment: PaymentIn) -> dict[str, str]:
        return sim.collect(payment.payment_order_id, payment.amount_fen, payment.paid_at)

    @app.post("/_sim/bill-lines", status_code=201)
    async def inject(body: BillLinesIn) -> dict[str, int]:
        books.injected.setdefault(body.date, []).extend(body.lines)
        return {"lines": len(books.injected[body.date])}

    @app.post("/_sim/bill-lines/drop")
    async def drop(body: DropIn) -> dict[str, int]:
        books.dropped.add((body.date, body.our_ref))
        matched = [line for line in books.lines if line.our_ref == body.our_ref]
        return {"dropped": sum(shanghai_date(line.occurred_at) == body.date for line in matched)}
