from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, CreatedAt
from app.core.sealing import SealedJSON

IN_FLIGHT = "in_flight"
COMPLETED = "completed"
RESPONSE_CONTEXT = "idempotency.response"


class IdempotencyRecord(CreatedAt, Base):
    """One `Idempotency-Key` of one client, and the response it produced."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (CheckConstraint(f"state IN ('{IN_FLIGHT}', '{COMPLETED}')", name="state"),)

    client_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("api_clients.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    lock_token: Mapped[uuid.UUID | None]
    locked_until: Mapped[datetime | None]
    response_status: Mapped[int | None]
    # The stored answer can hold personal and health data (a claim's facts): sealed at rest.
    response_cipher: Mapped[bytes | None] = mapped_column(LargeBinary)
    response_body = SealedJSON("response_cipher", RESPONSE_CONTEXT)
    response_headers: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    completed_at: Mapped[datetime | None]
