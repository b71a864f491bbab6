from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, CreatedAt, UUIDPrimaryKey


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


_STATUSES = ", ".join(f"'{s.value}'" for s in JobStatus)


class Job(UUIDPrimaryKey, CreatedAt, Base):
    """One unit of background work. `payload` holds ids and codes, never personal data."""

    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint(f"status IN ({_STATUSES})", name="status"),
        Index(None, "status", "run_after"),
        # A lane claims among its own kinds, however many jobs the other lanes hold.
        Index(None, "kind", "status", "run_after"),
    )

    kind: Mapped[str] = mapped_column(String(48))
    # Whose work this is, for fair claims within the kind (a union's batch chunks, one webhook
    # receiver's deliveries); none: the kind is one group.
    fair_key: Mapped[str | None] = mapped_column(String(80))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.QUEUED.value)
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=5)
    run_after: Mapped[datetime]
    locked_by: Mapped[str | None] = mapped_column(String(64))
    locked_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[datetime | None]
