"""Writing messages into the outbox, inside the transaction that records their event.

Features call `notify` once where a state change is recorded (an application decided, cover
started or ended, a claim filed or decided, a payout or refund settled). The row and its sending
job commit with the change or not at all; an event key already written adds nothing, so the
same event never makes two messages.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import utc_now
from app.jobs.queue import enqueue
from app.notifications.models import Kind, Notification, Status
from app.notifications.templates import Values, templates

SEND_JOB = "notifications.send"
# The job stops on its own (sent, capped, failed); this only bounds a handler that keeps
# crashing.
SEND_JOB_MAX_ATTEMPTS = 20


@dataclass(frozen=True)
class Notice:
    """A message to write: to `member_id`, about the record `about` (an enrolment, claim,
    payout, refund, or the member for a period), `occasion` telling apart several events of one
    kind about one record (a decision on appeal, a second instruction, a period's end date)."""

    member_id: uuid.UUID
    kind: Kind
    about: uuid.UUID
    values: Values = field(default_factory=Values)
    occasion: str = ""

    @property
    def event_key(self) -> str:
        key = f"{self.kind.value}:{self.about}"
        return f"{key}:{self.occasion}" if self.occasion else key


async def notify(session: AsyncSession, notices: Sequence[Notice]) -> int:
    """Add these messages (and their sending jobs) to the caller's transaction; how many were
    new."""
    if not notices:
        return 0
    book = templates()
    now = utc_now()
    unique = {notice.event_key: notice for notice in notices}
    rows = [
        {
            "id": uuid.uuid4(),
            "event_key": notice.event_key,
            "member_id": notice.member_id,
            "kind": notice.kind.value,
            "text": book.render(notice.kind, notice.values),
            "status": Status.PENDING.value,
            "attempts": 0,
            "created_at": now,
        }
        for notice in unique.values()
    ]
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    added = (
        await session.scalars(
            dialect.insert(Notification)
            .values(rows)
            .on_conflict_do_nothing(index_elements=[Notification.event_key])
            .returning(Notification.id)
        )
    ).all()
    for message_id in added:
        enqueue(
            session, SEND_JOB, {"message_id": str(message_id)}, max_attempts=SEND_JOB_MAX_ATTEMPTS
        )
    return len(added)


def notify_new(session: AsyncSession, notices: Sequence[Notice]) -> None:
    """`notify` for events about a record this transaction creates (a claim filed now): no
    message can exist for them yet, so their rows and jobs are added to the session like the
    record's own, with no statement of their own."""
    book = templates()
    for notice in {notice.event_key: notice for notice in notices}.values():
        message = Notification(
            id=uuid.uuid4(),
            event_key=notice.event_key,
            member_id=notice.member_id,
            kind=notice.kind.value,
            text=book.render(notice.kind, notice.values),
            status=Status.PENDING.value,
            attempts=0,
        )
        session.add(message)
        enqueue(
            session, SEND_JOB, {"message_id": str(message.id)}, max_attempts=SEND_JOB_MAX_ATTEMPTS
        )


async def forget_member(session: AsyncSession, member_id: uuid.UUID) -> int:
    """Remove a member's messages (for erasure): their texts say nothing about the person, but
    they are about one. Messages not yet sent are simply never sent."""
    result = await session.execute(delete(Notification).where(Notification.member_id == member_id))
    return int(result.rowcount)  # type: ignore[attr-defined]
