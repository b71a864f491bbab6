"""Payouts, the transfers instructed for them, payee accounts, and the gateway's notifications.

A payout is written with the approval that makes it owed and then walks the states of
`PayoutStatus`; every attempt to move its money is a `PayoutInstruction` whose id is the
gateway's idempotency key, so a retried call never pays twice.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, CreatedAt, UUIDPrimaryKey, sql_values


class PayeeKind(StrEnum):
    MEMBER = "member"
    BENEFICIARY = "beneficiary"
    DISTRICT_UNION = "district_union"


class PayoutStatus(StrEnum):
    AWAITING_ACCOUNT = "awaiting_account"
    AWAITING_APPROVAL = "awaiting_approval"
    READY = "ready"
    INSTRUCTED = "instructed"
    PAID = "paid"
    FAILED = "failed"
    RETURNED = "returned"


class AccountKind(StrEnum):
    BANK = "bank"
    ALIPAY = "alipay"


class Payout(UUIDPrimaryKey, CreatedAt, Base):
    """An approved amount owed to its payee: one per approved claim. Its amount never changes."""

    __tablename__ = "payouts"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint(f"payee_kind IN ({sql_values(PayeeKind)})", name="payee_kind"),
        CheckConstraint(f"status IN ({sql_values(PayoutStatus)})", name="status"),
        Index(None, "member_id"),
        Index(None, "created_at"),
        Index(None, "status", "created_at"),
    )

    claim_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("claims.id"), unique=True)
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    coverage_period_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("coverage_periods.id"))
    benefit: Mapped[str] = mapped_column(String(32))
    amount_fen: Mapped[int]
    payee_kind: Mapped[str] = mapped_column(String(16))
    payee_union_org_code: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20))
    # At or above the plan's `four_eyes_from_fen` when it was approved: needs a second approval.
    four_eyes: Mapped[bool] = mapped_column(default=False)
    # The client that decided the claim: it may not also give the second approval.
    decided_by_client_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("api_clients.id"))
    approved_by_client_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("api_clients.id"))
    approved_at: Mapped[datetime | None]
    # The account the money goes to, sealed (`ACCOUNT_CONTEXT`); masked for answers.
    account_kind: Mapped[str | None] = mapped_column(String(8))
    account_cipher: Mapped[bytes | None] = mapped_column(LargeBinary)
    account_masked: Mapped[str | None] = mapped_column(String(64))
    current_instruction_id: Mapped[uuid.UUID | None]
    failure_reason: Mapped[str | None] = mapped_column(String(64))
    paid_at: Mapped[datetime | None]
    updated_at: Mapped[datetime | None]


class PayoutInstruction(UUIDPrimaryKey, CreatedAt, Base):
    """One request to the gateway to move a payout's money; its id is the `transfer_id`."""

    __tablename__ = "payout_instructions"
    __table_args__ = (Index(None, "payout_id"),)

    payout_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payouts.id"))
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    amount_fen: Mapped[int]
    # pending (not yet accepted by the gateway), sent, succeeded, failed, returned
    status: Mapped[str] = mapped_column(String(12))
    gateway_ref: Mapped[str | None] = mapped_column(String(64))
    failure_reason: Mapped[str | None] = mapped_column(String(64))
    sent_at: Mapped[datetime | None]
    # When the gateway says the money moved, and came back: the days its bills list them.
    paid_at: Mapped[datetime | None]
    returned_at: Mapped[datetime | None]


class PayoutAccount(CreatedAt, Base):
    """Where a member's, or a district union's, payouts go. Sealed; one per owner."""

    __tablename__ = "payout_accounts"

    # `member:<uuid>` or `union:<org code>`: one key space, one lookup.
    owner: Mapped[str] = mapped_column(String(80), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    account_cipher: Mapped[bytes] = mapped_column(LargeBinary)
    account_masked: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime | None]
    updated_by_client_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("api_clients.id"))


class PayoutNotification(CreatedAt, Base):
    """Every payout notification event id seen once: a replay changes nothing."""

    __tablename__ = "payout_notifications"

    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    payout_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payouts.id"))
    status: Mapped[str] = mapped_column(String(16))
    amount_fen: Mapped[int]
    outcome: Mapped[str] = mapped_column(String(32))
