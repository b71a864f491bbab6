"""What examiners do with applications: the queue, and approving or refusing what the
platform could not verify."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import Change, record
from app.core.clock import Clock
from app.core.errors import Conflict, NotFound
from app.core.policy import Caller
from app.enrolment.models import Enrolment, EnrolmentStatus
from app.enrolment.schemas import EnrolmentOut
from app.enrolment.service import out
from app.members.models import Member
from app.members.schemas import MemberIdentity
from app.notifications.events import application_outcome
from app.notifications.outbox import notify


async def review(
    session: AsyncSession,
    caller: Caller,
    enrolment_id: uuid.UUID,
    approve: bool,
    note: str,
    clock: Clock,
) -> EnrolmentOut:
    """An examiner's decision on an application the platform could not verify.

    A conditional UPDATE, so two examiners deciding at once cannot both win.
    """
    new_status = EnrolmentStatus.AWAITING_PAYMENT if approve else EnrolmentStatus.REJECTED
    result = await session.execute(
        update(Enrolment)
        .where(
            Enrolment.id == enrolment_id, Enrolment.status == EnrolmentStatus.PENDING_REVIEW.value
        )
        .values(
            status=new_status.value,
            reviewed_by_client_id=caller.client_id,
            review_note=note,
            updated_at=clock.now(),
        )
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        if await session.get(Enrolment, enrolment_id) is None:
            raise NotFound("enrolment not found", code="enrolment_not_found")
        raise Conflict(
            "only applications pending review can be reviewed", code="enrolment_not_pending_review"
        )
    record(
        session,
        Change(
            entity="enrolment",
            entity_id=enrolment_id,
            action="approved" if approve else "rejected",
            client_id=caller.client_id,
            from_status=EnrolmentStatus.PENDING_REVIEW.value,
            to_status=new_status.value,
        ),
    )
    enrolment = await session.get(Enrolment, enrolment_id, populate_existing=True)
    assert enrolment is not None
    await notify(session, application_outcome(enrolment.member_id, enrolment_id, new_status))
    member = await session.get(Member, enrolment.member_id)
    assert member is not None
    return out(enrolment, MemberIdentity.of(member))


async def queue(
    session: AsyncSession,
    status: EnrolmentStatus,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
) -> list[EnrolmentOut]:
    """Applications in a status, oldest first: the examiners' work queue. The page cursor is
    (created_at, id) of the last row seen, so rows sharing a timestamp are never skipped."""
    query = (
        select(Enrolment, Member)
        .join(Member, Member.id == Enrolment.member_id)
        .where(Enrolment.status == status.value)
        .order_by(Enrolment.created_at, Enrolment.id)
        .limit(limit)
    )
    if after is not None:
        created_at, last_id = after
        query = query.where(
            (Enrolment.created_at > created_at)
            | ((Enrolment.created_at == created_at) & (Enrolment.id > last_id))
        )
    return [
        out(enrolment, MemberIdentity.of(member))
        for enrolment, member in (await session.execute(query)).all()
    ]
