"""A reconciliation run per bill, and the differences it found."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, CreatedAt, UUIDPrimaryKey, sql_values
from app.reconciliation.matching import DifferenceKind


class Reconciliation(UUIDPrimaryKey, CreatedAt, Base):
    """One bill of one day, as given (the same bill again is the same run; a corrected bill of
    the same day is a new run, and the latest is the day's answer)."""

    __tablename__ = "reconciliations"
    __table_args__ = (
        UniqueConstraint("business_date", "bill_sha256"),
        CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="status"),
    )

    business_date: Mapped[date]
    bill_sha256: Mapped[str] = mapped_column(String(64))
    # The bill as received (it holds references and amounts, no personal data); gzip.
    bill_gzip: Mapped[bytes] = mapped_column(LargeBinary)
    source: Mapped[str] = mapped_column(String(8))  # upload, gateway
    status: Mapped[str] = mapped_column(String(8))
    error: Mapped[str | None] = mapped_column(String(200))
    bill_lines: Mapped[int] = mapped_column(default=0)
    our_entries: Mapped[int] = mapped_column(default=0)
    matched: Mapped[int] = mapped_column(default=0)
    differences: Mapped[int] = mapped_column(default=0)
    created_by_client_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("api_clients.id"))
    finished_at: Mapped[datetime | None]


class ReconciliationDifference(UUIDPrimaryKey, Base):
    __tablename__ = "reconciliation_differences"
    __table_args__ = (
        CheckConstraint(f"kind IN ({sql_values(DifferenceKind)})", name="kind"),
        Index(None, "reconciliation_id", "position"),
    )

    reconciliation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("reconciliations.id"))
    position: Mapped[int]
    kind: Mapped[str] = mapped_column(String(16))
    line_kind: Mapped[str] = mapped_column(String(8))
    our_ref: Mapped[str] = mapped_column(String(64))
    gateway_ref: Mapped[str | None] = mapped_column(String(64))
    bill_fen: Mapped[int | None]
    ours_fen: Mapped[int | None]
