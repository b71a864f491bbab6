from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, CreatedAt, UUIDPrimaryKey, sql_values


class EventType(StrEnum):
    COVERAGE_ACTIVATED = "coverage.activated"
    COVERAGE_ENDED = "coverage.ended"
    # The period's renewal can be bought from today (sent once per period).
    COVERAGE_RENEWAL_OPEN = "coverage.renewal_open"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # every attempt in the retry window failed
    CANCELLED = "cancelled"  # the endpoint was removed first


_ACTIVE = text("disabled_at IS NULL")


class WebhookEndpoint(UUIDPrimaryKey, CreatedAt, Base):
    """A platform's HTTPS receiver. The signing secret is stored encrypted (it must be used,
    not only checked); after a rotation the previous one keeps signing until it expires."""

    __tablename__ = "webhook_endpoints"
    __table_args__ = (
        Index(None, "platform_code"),
        Index(
            "uq_webhook_endpoints_active_url",
            "platform_code",
            "url",
            unique=True,
            sqlite_where=_ACTIVE,
            postgresql_where=_ACTIVE,
        ),
    )

    platform_code: Mapped[str] = mapped_column(ForeignKey("platforms.code"))
    url: Mapped[str] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(String(200))
    secret_cipher: Mapped[bytes] = mapped_column(LargeBinary)
    previous_secret_cipher: Mapped[bytes | None] = mapped_column(LargeBinary)
    previous_secret_expires_at: Mapped[datetime | None]
    created_by_client_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("api_clients.id"))
    disabled_at: Mapped[datetime | None]


class WebhookEvent(UUIDPrimaryKey, CreatedAt, Base):
    """The outbox: one event for one platform about one of its workers. `data` is exactly what
    the platform receives (worker id, plan, dates: never identity or health data); `member_id`
    is kept for distribution by member, and is never sent."""

    __tablename__ = "webhook_events"
    __table_args__ = (
        CheckConstraint(f"type IN ({sql_values(EventType)})", name="type"),
        Index(None, "member_id"),
    )

    platform_code: Mapped[str] = mapped_column(ForeignKey("platforms.code"))
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    type: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class WebhookDelivery(UUIDPrimaryKey, CreatedAt, Base):
    """One event to one endpoint: its attempts so far and how it ended."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "endpoint_id"),
        CheckConstraint(f"status IN ({sql_values(DeliveryStatus)})", name="status"),
        Index(None, "endpoint_id", "created_at"),
    )

    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhook_events.id"))
    endpoint_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhook_endpoints.id"))
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(default=0)
    last_attempt_at: Mapped[datetime | None]
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(String(64))
    finished_at: Mapped[datetime | None]
