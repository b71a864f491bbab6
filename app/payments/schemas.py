from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.core.schemas import MAX_STORED_FEN, GatewayMoment, ResponseModel, Text


class PaymentOrderOut(ResponseModel):
    id: uuid.UUID
    enrolment_id: uuid.UUID | None
    batch_id: uuid.UUID | None = Field(
        default=None, description="Set on a union's invoice for an enrolment batch."
    )
    amount_fen: int = Field(description="Premium in fen (7200 = ¥72).")
    status: Literal["open", "paid"]
    paid_at: datetime | None
    created_at: datetime


class PaymentNotificationIn(BaseModel):
    """The gateway's body. Unlike our clients' bodies, unknown fields are ignored: a gateway
    adding a field must not stop payments from activating cover."""

    model_config = ConfigDict(extra="ignore")

    event_id: Text = Field(min_length=1, max_length=128)
    payment_order_id: uuid.UUID
    status: Literal["succeeded", "failed"]
    amount_fen: int = Field(ge=0, le=MAX_STORED_FEN)
    paid_at: GatewayMoment
    channel: Text = Field(min_length=1, max_length=32)


class CoverageOut(ResponseModel):
    starts_on: date
    ends_on: date
    continues_previous: bool


class PaymentNotificationOut(ResponseModel):
    event_id: str
    outcome: Literal[
        "activated",
        "activation_queued",
        "failed_recorded",
        "already_paid",
        "duplicate",
        "refund_due",
        "amount_mismatch",
        "paid_at_out_of_range",
    ]
    coverage: CoverageOut | None = None


class RefundNotificationIn(BaseModel):
    """The gateway's word on a refund, signed like premium notifications."""

    model_config = ConfigDict(extra="ignore")

    event_id: Text = Field(min_length=1, max_length=128)
    refund_id: uuid.UUID
    status: Literal["succeeded", "failed"]
    amount_fen: int = Field(ge=0, le=MAX_STORED_FEN)
    occurred_at: GatewayMoment
    reason: Text | None = Field(default=None, max_length=64)


class RefundNotificationOut(ResponseModel):
    event_id: str
    outcome: Literal[
        "refunded", "failed_recorded", "already_settled", "duplicate", "amount_mismatch"
    ]


class RefundOut(ResponseModel):
    id: uuid.UUID
    payment_order_id: uuid.UUID
    amount_fen: int
    reason: str
    status: Literal["pending", "instructed", "succeeded", "failed", "retried"]
    failure_reason: str | None
    created_at: datetime
    settled_at: datetime | None


class RefundPage(ResponseModel):
    items: list[RefundOut]
    next_cursor: str | None
