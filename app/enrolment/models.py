from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, LargeBinary, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, CreatedAt, UUIDPrimaryKey


class EnrolmentStatus(StrEnum):
    PENDING_REVIEW = "pending_review"
    AWAITING_PAYMENT = "awaiting_payment"
    REJECTED = "rejected"
    PAID = "paid"
    REFUND_DUE = "refund_due"  # paid, but no longer eligible on the first day of cover
    EXPIRED = "expired"  # left unpaid longer than the plan allows


_STATUSES = ", ".join(f"'{s.value}'" for s in EnrolmentStatus)
OPEN_STATUSES = (EnrolmentStatus.PENDING_REVIEW, EnrolmentStatus.AWAITING_PAYMENT)
OPEN_CONDITION = "status IN ('pending_review', 'awaiting_payment')"


class Enrolment(UUIDPrimaryKey, CreatedAt, Base):
    """One application for one period of cover, and the checks made on it."""

    __tablename__ = "enrolments"
    __table_args__ = (
        CheckConstraint(f"status IN ({_STATUSES})", name="status"),
        Index(None, "member_id"),
        Index(None, "status", "created_at"),
        Index(None, "batch_id", "status"),
        # One open application per member, whatever the concurrency.
        Index(
            "uq_enrolments_open_member",
            "member_id",
            unique=True,
            sqlite_where=text(OPEN_CONDITION),
            postgresql_where=text(OPEN_CONDITION),
        ),
    )

    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    plan_code: Mapped[str] = mapped_column(String(64))
    plan_version: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    # The union batch that made this application, if any (its invoice pays for it).
    batch_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("enrolment_batches.id"))
    status: Mapped[str] = mapped_column(String(24))
    platform_code: Mapped[str] = mapped_column(ForeignKey("platforms.code"))
    platform_worker_id: Mapped[str] = mapped_column(String(128))
    work_type: Mapped[str] = mapped_column(String(32))
    work_city: Mapped[str] = mapped_column(String(64))
    # The Shanghai district the applicant named (GB/T 2260 code); none for union batch rows.
    work_district: Mapped[str | None] = mapped_column(String(6))
    applied_on: Mapped[date]
    checks: Mapped[list[Any]] = mapped_column(JSON)
    # The contact details as submitted, encrypted; they reach the member record only once the
    # application turns into cover, so an unverified application cannot rewrite a member.
    name_cipher: Mapped[bytes] = mapped_column(LargeBinary)
    phone_cipher: Mapped[bytes] = mapped_column(LargeBinary)
    created_by_client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("api_clients.id"))
    reviewed_by_client_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("api_clients.id"))
    review_note: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime | None]
