"""Writing applications: the one place member and enrolment rows are made, whichever way the
application came (the government app, a union batch, the demo seeding).

Rows are written many at once (COPY on PostgreSQL, `app.core.bulk`), in one order everywhere
(members by ID-number hash, enrolments by member), so two writers inserting the same people
cannot deadlock; the unique ID-number hash and the one-open-application index turn a race into
an IntegrityError the caller handles.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.bulk import insert_rows
from app.enrolment.models import Enrolment
from app.members.models import Member
from app.members.service import SealedIdentity


@dataclass(slots=True)  # not frozen: one is made per row, and frozen ones cost 2-3x to make
class NewMember:
    id: uuid.UUID
    identity: SealedIdentity
    # When the person consented to the processing of their sensitive personal data.
    consent_at: datetime
    created_at: datetime
    union_org_code: str | None = None
    union_member_number: str | None = None
    union_joined_at: datetime | None = None

    def row(self) -> dict[str, Any]:
        return {
            **self.identity.columns(),
            "id": self.id,
            "union_org_code": self.union_org_code,
            # Joined through the app, or enrolled by a union's batch (or seeded) with the union.
            "union_bound_at": (self.union_joined_at or self.created_at)
            if self.union_org_code
            else None,
            "union_member_number": self.union_member_number,
            "union_joined_at": self.union_joined_at,
            "sensitive_data_consent_at": self.consent_at,
            "created_at": self.created_at,
        }


@dataclass(slots=True)  # not frozen: one is made per row, and frozen ones cost 2-3x to make
class NewApplication:
    """An enrolment as written. The contact details travel encrypted with it: they reach the
    member record only once the application turns into cover."""

    id: uuid.UUID
    member_id: uuid.UUID
    plan_code: str
    plan_version: str
    channel: str
    status: str
    platform_code: str
    platform_worker_id: str
    work_type: str
    work_city: str
    applied_on: date
    name_cipher: bytes
    phone_cipher: bytes
    created_by_client_id: uuid.UUID
    created_at: datetime
    checks: list[dict[str, Any]] = field(default_factory=list)
    batch_id: uuid.UUID | None = None
    review_note: str | None = None
    work_district: str | None = None

    def row(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "member_id": self.member_id,
            "plan_code": self.plan_code,
            "plan_version": self.plan_version,
            "channel": self.channel,
            "batch_id": self.batch_id,
            "status": self.status,
            "platform_code": self.platform_code,
            "platform_worker_id": self.platform_worker_id,
            "work_type": self.work_type,
            "work_city": self.work_city,
            "work_district": self.work_district,
            "applied_on": self.applied_on,
            "checks": self.checks,
            "name_cipher": self.name_cipher,
            "phone_cipher": self.phone_cipher,
            "created_by_client_id": self.created_by_client_id,
            "created_at": self.created_at,
        }


async def write(
    session: AsyncSession,
    members: Sequence[NewMember],
    applications: Sequence[NewApplication],
) -> None:
    """Insert the new members, then the applications (which may name existing members)."""
    if members:
        rows = sorted((m.row() for m in members), key=lambda r: r["id_number_hash"])
        await insert_rows(session, Member, rows)
    if applications:
        # UUID order (its integer), compared as ints rather than by UUID.__lt__ in Python.
        rows = sorted((a.row() for a in applications), key=lambda r: r["member_id"].int)
        await insert_rows(session, Enrolment, rows)
