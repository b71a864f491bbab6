from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import AwareDatetime, Field

from app.core.schemas import RequestModel, ResponseModel


class PaymentOrderOut(ResponseModel):
    id: uuid.UUID
    enrolment_id: uuid.UUID | None
    amount_fen: int = Field(description="Premium in fen (7200 = ¥72).")
    status: Literal["open", "paid"]
    paid_at: datetime | None
    created_at: datetime


class PaymentNotificationIn(RequestModel):
    event_id: str = Field(min_length=1, max_length=128)
    payment_order_id: uuid.UUID
    status: Literal["succeeded", "failed"]
    amount_fen: int = Field(ge=0)
    paid_at: AwareDatetime
    channel: str = Field(min_length=1, max_length=32)


class CoverageOut(ResponseModel):
    starts_on: date
    ends_on: date
    continues_previous: bool


class PaymentNotificationOut(ResponseModel):
    event_id: str
    outcome: Literal["activated", "failed_recorded", "already_paid", "duplicate", "refund_due"]
    coverage: CoverageOut | None = None
