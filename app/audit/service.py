"""Recording state changes in the same transaction as the change itself."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEvent
from app.core.request_context import current_request_id


@dataclass(frozen=True, slots=True)
class Change:
    """A state change: what changed (`entity`, `entity_id`), how (`action`, the statuses), by
    which client (None: the service itself, or a signed partner notification).

    `details` must never hold personal data in clear: ids, codes and amounts only.
    """

    entity: str
    entity_id: uuid.UUID | str
    action: str
    client_id: uuid.UUID | None
    from_status: str | None = None
    to_status: str | None = None
    details: dict[str, Any] | None = None


def record(session: AsyncSession, change: Change) -> None:
    """Add an audit event to the caller's transaction (it commits or rolls back with it)."""
    session.add(
        AuditEvent(
            entity=change.entity,
            entity_id=str(change.entity_id),
            action=change.action,
            from_status=change.from_status,
            to_status=change.to_status,
            client_id=change.client_id,
            request_id=current_request_id(),
            details=change.details,
        )
    )
