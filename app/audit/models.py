from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, CreatedAt, UUIDPrimaryKey


class AuditEvent(UUIDPrimaryKey, CreatedAt, Base):
    """A state change, written in the transaction that made it. Never updated or deleted;
    PIPL asks for processing records to be kept (3 years)."""

    __tablename__ = "audit_events"
    __table_args__ = (Index(None, "entity", "entity_id", "created_at"),)

    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(48))
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str | None] = mapped_column(String(24))
    client_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("api_clients.id"))
    request_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
