"""A union's batch: the upload (encrypted chunks), one outcome per row, and the counters.

The upload is cut into chunks when it arrives; each chunk is one job and one transaction (its
rows' outcomes, members and enrolments, the batch counters, and the chunk marked done commit
together), so a killed worker's chunk is simply done again by the next one, never twice.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, CreatedAt, UUIDPrimaryKey, sql_values


class BatchStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class RowOutcome(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"


class EnrolmentBatch(UUIDPrimaryKey, CreatedAt, Base):
    __tablename__ = "enrolment_batches"
    __table_args__ = (
        CheckConstraint(f"status IN ({sql_values(BatchStatus)})", name="status"),
        CheckConstraint(
            "processed = accepted + rejected + duplicate AND processed <= total", name="counts"
        ),
        Index(None, "union_org_code", "created_at"),
    )

    union_org_code: Mapped[str] = mapped_column(String(64))
    created_by_client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("api_clients.id"))
    plan_code: Mapped[str] = mapped_column(String(64))
    plan_version: Mapped[str] = mapped_column(String(32))
    # The application date of every row: ages are checked on it.
    applied_on: Mapped[date]
    source: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))
    total: Mapped[int]
    chunk_count: Mapped[int]
    processed: Mapped[int] = mapped_column(default=0)
    accepted: Mapped[int] = mapped_column(default=0)
    rejected: Mapped[int] = mapped_column(default=0)
    duplicate: Mapped[int] = mapped_column(default=0)
    # Filled once the invoice is paid and cover is started.
    activated: Mapped[int] = mapped_column(default=0)
    refund_due: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class BatchChunk(Base):
    """Part of the upload, encrypted (it holds ID numbers, names and phones). The rows are
    erased once the chunk is processed: only the outcomes stay."""

    __tablename__ = "enrolment_batch_chunks"

    batch_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("enrolment_batches.id", ondelete="CASCADE"), primary_key=True
    )
    chunk_no: Mapped[int] = mapped_column(primary_key=True)
    first_row: Mapped[int]
    row_count: Mapped[int]
    rows_cipher: Mapped[bytes | None] = mapped_column(LargeBinary)
    processed_at: Mapped[datetime | None]


class BatchRow(Base):
    """One row's outcome. `ref` is the union's own reference, the only thing echoed back."""

    __tablename__ = "enrolment_batch_rows"
    __table_args__ = (
        CheckConstraint(f"outcome IN ({sql_values(RowOutcome)})", name="outcome"),
        Index(None, "batch_id", "outcome", "row_number"),
    )

    batch_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("enrolment_batches.id", ondelete="CASCADE"), primary_key=True
    )
    row_number: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    codes: Mapped[list[Any]] = mapped_column(JSON)
    duplicate_of_row: Mapped[int | None]
    member_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("members.id"))
    enrolment_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("enrolments.id"))
