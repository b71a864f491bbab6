from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, CreatedAt, UUIDPrimaryKey


class CoveragePeriodRecord(UUIDPrimaryKey, CreatedAt, Base):
    """A paid period of cover, `starts_on`..`ends_on` inclusive (Shanghai dates)."""

    __tablename__ = "coverage_periods"
    __table_args__ = (
        UniqueConstraint("member_id", "starts_on"),
        Index(None, "member_id", "ends_on"),
        # The periods whose end platforms may still have to hear about (app.webhooks.endings).
        Index(
            "ix_coverage_periods_end_unannounced",
            "ends_on",
            sqlite_where=text("end_announced_at IS NULL"),
            postgresql_where=text("end_announced_at IS NULL"),
        ),
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
    # Set once the end of this cover has been dealt with: announced to platforms, or found to
    # need no announcement (a renewal continues it, or a death already ended it).
    end_announced_at: Mapped[datetime | None]
