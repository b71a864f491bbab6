"""Recording state changes in the same transaction as the change itself."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEvent
from app.core.request_context import current_request_id


async def record(
    session: AsyncSession,
    *,
    entity: str,
    entity_id: uuid.UUID | str,
    action: str,
    client_id: uuid.UUID | None,
    from_status: str | None = None,
    to_status: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Add an audit event to the caller's transaction (it commits or rolls back with it).

    `details` must never hold personal data in clear: ids, codes and amounts only.
    """
    session.add(
        AuditEvent(
            entity=entity,
            entity_id=str(entity_id),
            action=action,
            from_status=from_status,
            to_status=to_status,
            client_id=client_id,
            request_id=current_request_id(),
            details=details,
        )
    )
