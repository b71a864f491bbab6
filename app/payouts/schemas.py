"""Payout answers, the finance office's requests, and the gateway's payout notifications."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from app.core.schemas import MAX_STORED_FEN, GatewayMoment, RequestModel, Text
from app.payouts.accounts import PayeeAccountIn
from app.payouts.models import PayeeKind, PayoutStatus


class PayoutDetail(BaseModel):
    id: uuid.UUID
    claim_id: uuid.UUID
    member_id: uuid.UUID
    benefit: str
    amount_fen: int
    payee_kind: PayeeKind
    payee_union_org_code: str | None
    account_masked: str | None
    status: PayoutStatus
    needs_second_approval: bool
    approved_at: datetime | None
    failure_reason: str | None
    paid_at: datetime | None
    created_at: datetime


class PayoutPage(BaseModel):
    items: list[PayoutDetail]
    next_cursor: str | None


class ReissueIn(RequestModel):
    """A corrected account, or none to try the same account again."""

    payee_account: PayeeAccountIn | None = None


class PayoutAccountOut(BaseModel):
    member_id: uuid.UUID
    account_masked: str
    payouts_released: int


class PayoutNotificationIn(BaseModel):
    """Signed like premium notifications; unknown fields are ignored. `transfer_id` names the
    instruction; a notification without one is about the payout's current instruction."""

    model_config = ConfigDict(extra="ignore")

    event_id: Text = Field(min_length=1, max_length=128)
    payout_id: uuid.UUID
    transfer_id: uuid.UUID | None = None
    status: Literal["succeeded", "failed", "returned"]
    amount_fen: int = Field(ge=0, le=MAX_STORED_FEN)
    paid_at: GatewayMoment = Field(validation_alias=AliasChoices("paid_at", "occurred_at"))
    channel: Text = Field(default="bank", min_length=1, max_length=32)
    reason: Text | None = Field(default=None, max_length=64)


class PayoutNotificationOut(BaseModel):
    event_id: str
    outcome: Literal[
        "paid",
        "failed_recorded",
        "returned_recorded",
        "duplicate",
        "already_paid",
        "amount_mismatch",
        "paid_at_out_of_range",
        "not_current",
    ]
