from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, CreatedAt, UUIDPrimaryKey, sql_values

OPEN = "open"
PAID = "paid"


class PaymentOrder(UUIDPrimaryKey, CreatedAt, Base):
    """What the payer is asked to pay. It changes from open to paid once, by a conditional
    UPDATE, whatever the number of notifications racing for it."""

    __tablename__ = "payment_orders"
    __table_args__ = (
        CheckConstraint(f"status IN ('{OPEN}', '{PAID}')", name="status"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("(enrolment_id IS NULL) <> (batch_id IS NULL)", name="pays_for_one"),
        Index(None, "enrolment_id"),
    )

    # What the order pays for: one enrolment (the government app), or a union's batch invoice.
    enrolment_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("enrolments.id"))
    batch_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("enrolment_batches.id"), unique=True
    )
    amount_fen: Mapped[int]
    status: Mapped[str] = mapped_column(String(8))
    paid_at: Mapped[datetime | None]
    channel: Mapped[str | None] = mapped_column(String(32))
    failed_attempts: Mapped[int] = mapped_column(default=0)
    # Every successful payment received on the order, duplicates included: what refunds of
    # this order may add up to at most.
    received_fen: Mapped[int] = mapped_column(default=0)


class PaymentNotification(CreatedAt, Base):
    """Every gateway event id seen once: a replay of the same id changes nothing."""

    __tablename__ = "payment_notifications"

    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    payment_order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payment_orders.id"))
    status: Mapped[str] = mapped_column(String(16))
    amount_fen: Mapped[int]
    outcome: Mapped[str] = mapped_column(String(32))
    # When the gateway says the money moved: the day its bill lists the payment.
    paid_at: Mapped[datetime | None]


class RefundStatus(StrEnum):
    PENDING = "pending"
    INSTRUCTED = "instructed"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    RETRIED = "retried"  # failed, then replaced by a new refund (a new id for the gateway)


class Refund(UUIDPrimaryKey, CreatedAt, Base):
    """Money received on an order that goes back to where it came from, with its reason.

    Together, the refunds of an order never exceed what the order received
    (`PaymentOrder.received_fen`, which counts duplicate payments too)."""

    __tablename__ = "refunds"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint(f"status IN ({sql_values(RefundStatus)})", name="status"),
        Index(None, "payment_order_id"),
        Index(None, "status", "created_at"),
    )

    payment_order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payment_orders.id"))
    amount_fen: Mapped[int]
    reason: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(12))
    gateway_ref: Mapped[str | None] = mapped_column(String(64))
    failure_reason: Mapped[str | None] = mapped_column(String(64))
    instructed_at: Mapped[datetime | None]
    settled_at: Mapped[datetime | None]
    updated_at: Mapped[datetime | None]
    # The refund that tried again after this one failed.
    retried_by: Mapped[uuid.UUID | None]


class RefundNotification(CreatedAt, Base):
    """Every refund notification event id seen once: a replay changes nothing."""

    __tablename__ = "refund_notifications"

    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    refund_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("refunds.id"))
    status: Mapped[str] = mapped_column(String(16))
    amount_fen: Mapped[int]
    outcome: Mapped[str] = mapped_column(String(32))
