"""The payment gateway's wire contract: what we send, what it answers, what it sends back.

Money is integer fen and moments are timezone-aware, as everywhere in the service. Ids are opaque
strings on the wire: the gateway does not know that ours are UUIDs, and must not need to. The
instruction's id (`transfer_id`, `refund_id`) is the gateway's idempotency key: the same id with
the same body is the same instruction, answered the same way (200); the same id with another body
is refused (409 `{"code": "id_reused"}`), so a bug can never turn a retry into a second payment.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from app.core.clock import SHANGHAI

ID_REUSED = "id_reused"
PAYOUT_NOTIFICATIONS_PATH = "/v1/payout-notifications"
REFUND_NOTIFICATIONS_PATH = "/v1/refund-notifications"
PAYMENT_NOTIFICATIONS_PATH = "/v1/payment-notifications"
BILL_COLUMNS = ("kind", "gateway_ref", "our_ref", "amount_fen", "occurred_at", "fee_fen")


class _Wire(BaseModel):
    """Bodies we send: exact, so a typo is our bug found here rather than the gateway's 400."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Account(_Wire):
    kind: Literal["bank", "alipay"]
    account_no: str = Field(min_length=1, max_length=64)
    holder_name: str = Field(min_length=1, max_length=64)
    bank_name: str | None = Field(default=None, max_length=64)


class TransferIn(_Wire):
    """`POST {gateway}/transfers`: move `amount_fen` to `account`."""

    transfer_id: str = Field(min_length=1, max_length=64, description="Our instruction id.")
    amount_fen: int = Field(gt=0, description="Fen (100 = ¥1).")
    account: Account
    reference: str = Field(
        min_length=1, max_length=64, description="Our payout id; the bill's our_ref."
    )


class RefundIn(_Wire):
    """`POST {gateway}/refunds`: give back (part of) a premium the gateway collected."""

    refund_id: str = Field(min_length=1, max_length=64)
    payment_order_id: str = Field(min_length=1, max_length=64)
    amount_fen: int = Field(gt=0, description="Fen (100 = ¥1).")


class Accepted(BaseModel):
    """The answer to both: the gateway holds the instruction; the outcome comes as a notification.
    Validated strictly, since we store `gateway_ref` and reconcile bills against it."""

    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)

    id: str = Field(min_length=1, description="The transfer_id or refund_id, echoed.")
    gateway_ref: str = Field(min_length=1, max_length=64)
    status: Literal["accepted"]


class Refusal(BaseModel):
    """A 4xx answer's body; `code` is machine-readable (`id_reused`, `invalid_signature`, ...)."""

    model_config = ConfigDict(extra="ignore")

    code: str | None = None


class PayoutNotification(BaseModel):
    """`POST {service}/v1/payout-notifications`. `returned` comes after `succeeded` when the
    bank sends the money back (a closed account), sometimes days later."""

    event_id: str
    transfer_id: str
    payout_id: str = Field(description="The transfer's `reference`.")
    status: Literal["succeeded", "failed", "returned"]
    amount_fen: int
    occurred_at: AwareDatetime
    reason: str | None = None
    channel: Literal["bank", "alipay"]


class RefundNotification(BaseModel):
    """`POST {service}/v1/refund-notifications`."""

    event_id: str
    refund_id: str
    status: Literal["succeeded", "failed"]
    amount_fen: int
    occurred_at: AwareDatetime
    reason: str | None = None


class PaymentNotification(BaseModel):
    """`POST {service}/v1/payment-notifications`: a premium collected. Mirrors
    `app.payments.schemas.PaymentNotificationIn`, which the service has always accepted."""

    event_id: str
    payment_order_id: str
    status: Literal["succeeded", "failed"]
    amount_fen: int
    paid_at: AwareDatetime
    channel: str


class BillLine(BaseModel):
    """One row of the gateway's daily bill. `our_ref` is our payment_order_id, refund_id or
    transfer_id; a returned transfer is a `transfer` row with a negative amount."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["payment", "refund", "transfer"]
    gateway_ref: str = Field(min_length=1)
    our_ref: str = Field(min_length=1)
    amount_fen: int
    occurred_at: AwareDatetime
    fee_fen: int = Field(ge=0)


def write_bill(lines: Iterable[BillLine]) -> bytes:
    """The bill as the gateway serves it: the header row, then one row per line, moments in
    Shanghai time with their offset."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(BILL_COLUMNS)
    for line in lines:
        moment = line.occurred_at.astimezone(SHANGHAI).isoformat()
        row = (line.kind, line.gateway_ref, line.our_ref, line.amount_fen, moment, line.fee_fen)
        writer.writerow(row)
    return out.getvalue().encode()


class BillFormatError(ValueError):
    """The bill is not in the contract's shape (header, kinds, numbers, moments)."""


def read_bill(raw: bytes) -> list[BillLine]:
    """Parse a bill, refusing anything off-contract: reconciling a half-read bill would report
    payments as missing that were merely unreadable."""
    try:
        rows = list(csv.reader(io.StringIO(raw.decode("utf-8"))))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise BillFormatError("the bill is not UTF-8 CSV") from exc
    if not rows or tuple(rows[0]) != BILL_COLUMNS:
        raise BillFormatError("the bill's header row is not the contract's")
    lines = []
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != len(BILL_COLUMNS):
            raise BillFormatError(f"row {number} has {len(row)} columns")
        try:
            lines.append(BillLine.model_validate(dict(zip(BILL_COLUMNS, row, strict=True))))
        except ValueError as exc:
            raise BillFormatError(f"row {number} is not a bill line") from exc
    return lines


def shanghai_moment(moment: datetime) -> str:
    """How the gateway writes a moment in its notifications: Shanghai time, with its offset."""
    return moment.astimezone(SHANGHAI).isoformat()
