"""Coverage periods, and the usage counters of each: what a period has paid, per benefit and
per event, and which hospital days.

The counters belong to cover, not to claims: they are what a coverage view shows as used and
remaining, and what the next decision reads. Claims change them only through
`app.coverage.usage.consume`.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, CreatedAt, UUIDPrimaryKey
from app.core.sealing import SealedDate, SealedJSON

USAGE_DIED_ON_CONTEXT = "claim_usage_period.died_on"
GRADE_CONTEXT = "claim_usage_event.disability_grade"


class CoveragePeriodRecord(UUIDPrimaryKey, CreatedAt, Base):
    """A paid period of cover, `starts_on`..`ends_on` inclusive (Shanghai dates)."""

    __tablename__ = "coverage_periods"
    __table_args__ = (
        UniqueConstraint("member_id", "starts_on"),
        Index(None, "member_id", "ends_on"),
        # The periods whose end platforms may still have to hear about (app.coverage.endings).
        Index(
            "ix_coverage_periods_end_unannounced",
            "ends_on",
            sqlite_where=text("end_announced_at IS NULL"),
            postgresql_where=text("end_announced_at IS NULL"),
        ),
        # The periods whose opening for renewal platforms may still have to hear about
        # (app.coverage.renewals).
        Index(
            "ix_coverage_periods_renewal_unannounced",
            "ends_on",
            sqlite_where=text("renewal_announced_at IS NULL"),
            postgresql_where=text("renewal_announced_at IS NULL"),
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
    # Set once the opening of this period's renewal has been dealt with: announced
    # (`coverage.renewal_open`), or found to need no announcement (already renewed, the member
    # died or cannot renew for age, or the period ended first).
    renewal_announced_at: Mapped[datetime | None]


class PeriodUsage(Base):
    """What a member's period has paid over all benefits. `decisions` counts the approved
    decisions that changed it: the compare-and-set that makes a stale decision fail."""

    __tablename__ = "claim_usage_periods"
    __table_args__ = (
        CheckConstraint("total_paid_fen >= 0", name="total_not_negative"),
        CheckConstraint("hospital_days >= 0", name="days_not_negative"),
    )

    coverage_period_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("coverage_periods.id"), primary_key=True
    )
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"), index=True)
    total_paid_fen: Mapped[int] = mapped_column(default=0)
    hospital_days: Mapped[int] = mapped_column(default=0)
    decisions: Mapped[int] = mapped_column(default=0)
    # The date of death a paid death benefit accepted: sealed at rest.
    died_on_cipher: Mapped[bytes | None] = mapped_column(LargeBinary)
    died_on = SealedDate("died_on_cipher", USAGE_DIED_ON_CONTEXT)


class BenefitUsageRecord(Base):
    """What one benefit has paid in a period, and how many times."""

    __tablename__ = "claim_usage_benefits"
    __table_args__ = (CheckConstraint("paid_fen >= 0", name="paid_not_negative"),)

    coverage_period_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("coverage_periods.id"), primary_key=True
    )
    benefit: Mapped[str] = mapped_column(String(32), primary_key=True)
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"), index=True)
    paid_fen: Mapped[int] = mapped_column(default=0)
    payments: Mapped[int] = mapped_column(default=0)


class EventUsageRecord(Base):
    """What one event (one accident, one illness) has paid, by benefit."""

    __tablename__ = "claim_usage_events"
    __table_args__ = (CheckConstraint("paid_fen >= 0", name="paid_not_negative"),)

    coverage_period_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("coverage_periods.id"), primary_key=True
    )
    event_ref: Mapped[str] = mapped_column(String(64), primary_key=True)
    benefit: Mapped[str] = mapped_column(String(32), primary_key=True)
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"), index=True)
    paid_fen: Mapped[int] = mapped_column(default=0)
    # The best disability grade paid for the event (the lowest number): sealed at rest.
    disability_grade_cipher: Mapped[bytes | None] = mapped_column(LargeBinary)
    disability_grade = SealedJSON("disability_grade_cipher", GRADE_CONTEXT)


class PaidHospitalDay(Base):
    """A day in hospital the allowance has paid: never twice, whichever claim or period."""

    __tablename__ = "claim_hospital_days"

    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    coverage_period_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("coverage_periods.id"))
    claim_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("claims.id"))
