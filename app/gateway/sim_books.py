"""The simulated gateway's books, all in memory: instructions by id, outcome rules, bill lines.

Plain synchronous code (the FastAPI layer is `simulator.py`), so what "idempotent by id" and
"paid once" mean is written down in one place: an instruction is recorded on its first POST, its
outcome is decided then from the rules, and money moves at most once per id however often it is
POSTed again.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.core.clock import shanghai_date
from app.gateway.contract import Accepted, BillLine, RefundIn, TransferIn

Kind = Literal["transfer", "refund"]
Outcome = Literal["succeed", "fail", "return", "hold"]
# Alipay's standard rate for collecting a payment; refunds and transfers are free here.
PAYMENT_FEE_PER_MILLE = 6
DEFAULT_FAILURE = "declined_by_bank"


class Rule(BaseModel):
    """`POST /_sim/rules`: the outcome of matching instructions from now on (newest rule first).
    `return` pays, and the return trigger later sends the money back; `hold` keeps the POST
    unanswered until `POST /_sim/release`, then pays."""

    model_config = ConfigDict(extra="forbid")

    kind: Kind
    match_account_no: str | None = None
    match_id: str | None = None
    outcome: Outcome
    reason: str | None = Field(default=None, max_length=64)

    def matches(self, instruction: TransferIn | RefundIn) -> bool:
        kind, ref = identify(instruction)
        account_no = instruction.account.account_no if isinstance(instruction, TransferIn) else None
        return (
            self.kind == kind
            and self.match_id in (None, ref)
            and self.match_account_no in (None, account_no)
        )


def identify(body: TransferIn | RefundIn) -> tuple[Kind, str]:
    if isinstance(body, TransferIn):
        return "transfer", body.transfer_id
    return "refund", body.refund_id


SUCCEED = Rule(kind="transfer", outcome="succeed")


class IdReused(Exception):
    """The id was given before with another body."""


@dataclass
class Instruction:
    kind: Kind
    body: TransferIn | RefundIn
    accepted: Accepted
    rule: Rule
    received: int = 1
    paid: int = 0
    status: str = "accepted"
    released: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def id(self) -> str:
        return self.accepted.id

    def view(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.id,
            "gateway_ref": self.accepted.gateway_ref,
            "amount_fen": self.body.amount_fen,
            "received": self.received,
            "paid": self.paid,
            "status": self.status,
        }


def new_ref(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:20]}"


def payment_fee(amount_fen: int) -> int:
    """0.6%, rounded half up to the fen."""
    return (amount_fen * PAYMENT_FEE_PER_MILLE + 500) // 1000


@dataclass
class Books:
    instructions: dict[tuple[Kind, str], Instruction] = field(default_factory=dict)
    rules: list[Rule] = field(default_factory=list)
    lines: list[BillLine] = field(default_factory=list)
    injected: dict[date, list[BillLine]] = field(default_factory=dict)
    dropped: set[tuple[date, str]] = field(default_factory=set)

    def receive(self, body: TransferIn | RefundIn) -> tuple[Instruction, bool]:
        """The instruction for this body's id, and whether this POST is its first."""
        kind, ref = identify(body)
        known = self.instructions.get((kind, ref))
        if known is not None:
            known.received += 1
            if known.body != body:
                raise IdReused(ref)
            return known, False
        rule = next((r for r in reversed(self.rules) if r.matches(body)), SUCCEED)
        accepted = Accepted(id=ref, gateway_ref=new_ref(kind[0].upper()), status="accepted")
        instruction = Instruction(kind, body, accepted, rule)
        self.instructions[(kind, ref)] = instruction
        return instruction, True

    def held(self) -> list[Instruction]:
        return [i for i in self.instructions.values() if i.status == "held"]

    def pay(self, instruction: Instruction, at: datetime) -> None:
        """The money moves: once per instruction, and a line on the day's bill."""
        assert instruction.paid == 0
        instruction.paid = 1
        instruction.status = "succeeded"
        our_ref = instruction.id
        self.lines.append(
            BillLine(
                kind=instruction.kind,
                gateway_ref=instruction.accepted.gateway_ref,
                our_ref=our_ref,
                amount_fen=instruction.body.amount_fen,
                occurred_at=at,
                fee_fen=0,
            )
        )

    def give_back(self, instruction: Instruction, at: datetime) -> None:
        """A paid transfer came back: a negative line on the day of the return."""
        instruction.status = "returned"
        self.lines.append(
            BillLine(
                kind="transfer",
                gateway_ref=instruction.accepted.gateway_ref,
                our_ref=instruction.id,
                amount_fen=-instruction.body.amount_fen,
                occurred_at=at,
                fee_fen=0,
            )
        )

    def collect(self, payment_order_id: str, amount_fen: int, at: datetime) -> str:
        gateway_ref = new_ref("P")
        self.lines.append(
            BillLine(
                kind="payment",
                gateway_ref=gateway_ref,
                our_ref=payment_order_id,
                amount_fen=amount_fen,
                occurred_at=at,
                fee_fen=payment_fee(amount_fen),
            )
        )
        return gateway_ref

    def bill(self, day: date) -> list[BillLine]:
        real = [
            line
            for line in self.lines
            if shanghai_date(line.occurred_at) == day and (day, line.our_ref) not in self.dropped
        ]
        return sorted(real + self.injected.get(day, []), key=lambda line: line.occurred_at)
