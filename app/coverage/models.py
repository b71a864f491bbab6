from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, CreatedAt, UUIDPrimaryKey


class CoveragePeriodRecord(UUIDPrimaryKey, CreatedAt, Base):
    """A paid period of cover, `starts_on`..`ends_on` inclusive (Shanghai dates)."""

    __tablename__ = "coverage_periods"
    __table_args__ = (
        UniqueConstraint("member_id", "starts_on"),
        Index(None, "member_id", "ends_on"),
    )

    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    plan_code: Mapped[str] = mapped_column(String(64))
    plan_version: Mapped[str] = mapped_column(String(32))
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    continues_previous: Mapped[bool]
    # One period per enrolment; one payment order pays one enrolment, or a batch's many.
    enrolment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enrolments.id"), unique=True)
    payment_order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payment_orders.id"), index=True)
