"""Taking in a signed notification once: the protocol every gateway notification follows.

The gateway may send an event twice, or two events about the same thing at once. So, in the
request's transaction:

1. the thing the notification is about (a payment order, a payout) is row-locked first, so two
   notifications about it queue instead of deadlocking (recording the event first would take a
   key-share lock on it through the foreign key, and both would then wait to upgrade it);
2. the event id is inserted in a savepoint: a unique-key failure means the event was seen
   before, and a replay changes nothing;
3. the caller decides what the event does and concludes the record with its outcome, which
   stays stored even when the answer refuses the event (money may have moved).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import ServiceError
from app.core.problems import problem_response

PENDING = "pending"
DUPLICATE = "duplicate"


class NotificationRecord(Protocol):
    event_id: str
    outcome: str


Subject = TypeVar("Subject")
Record = TypeVar("Record", bound=NotificationRecord)


@dataclass
class Received(Generic[Subject, Record]):
    """A notification seen for the first time, and the locked thing it is about."""

    subject: Subject
    record: Record

    def conclude(self, outcome: str) -> str:
        self.record.outcome = outcome
        return outcome


async def take_in(
    session: AsyncSession,
    subject: type[Subject],
    subject_id: uuid.UUID,
    record: Record,
    not_found: ServiceError,
) -> Received[Subject, Record] | None:
    """Lock the subject, then record the event; None when the event id was seen before.

    `record` is the new notification row, its outcome `pending` until `conclude`; `not_found`
    is raised when there is no such subject.
    """
    locked = await session.get(subject, subject_id, with_for_update=True)
    if locked is None:
        raise not_found
    record.outcome = PENDING
    try:
        async with session.begin_nested():
            session.add(record)
            await session.flush()
    except IntegrityError:
        return None
    return Received(locked, record)


class Concluded(Protocol):
    """A notification's answer: its event and what became of it."""

    @property
    def event_id(self) -> str: ...

    @property
    def outcome(self) -> str: ...


def answer(result: Concluded, refused: frozenset[str], what: str) -> object:
    """A notification's answer: the result, or, when its outcome refuses it, a 422 problem that
    says it was recorded. Returned, not raised: the refused event stays recorded (money may have
    moved)."""
    if result.outcome not in refused:
        return result
    return problem_response(
        422,
        result.outcome,
        f"{what} notification refused",
        f"event {result.event_id} was recorded as {result.outcome}",
    )
