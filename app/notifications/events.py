"""The message each recorded event makes, and the key that makes it one message.

Features call these where the state change is recorded and pass the result to
`outbox.notify`, in the same transaction. They take ids, dates and amounts only: what a
message may say (`templates.Values`), and nothing features would have to hold back.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date

from app.notifications.models import Kind
from app.notifications.outbox import Notice
from app.notifications.templates import Values

# An application's status -> its message. Expired and paid applications say nothing here:
# payment says it with the first day of cover.
_APPLICATION = {
    "awaiting_payment": Kind.APPLICATION_ACCEPTED,
    "pending_review": Kind.APPLICATION_PENDING_REVIEW,
    "rejected": Kind.APPLICATION_REFUSED,
}
# A claim filed and not decided at once; a decision at once says only the decision.
_FILED = {
    "pending_review": Kind.CLAIM_RECEIVED,
    "pending_documents": Kind.CLAIM_DOCUMENTS_NEEDED,
}


def application_outcome(member_id: uuid.UUID, enrolment_id: uuid.UUID, status: str) -> list[Notice]:
    """An application taken or decided: accepted (to pay), waiting for an examiner, refused."""
    kind = _APPLICATION.get(status)
    if kind is None:
        return []
    return [Notice(member_id, kind, enrolment_id, Values(ref=enrolment_id))]


def cover_started(
    member_id: uuid.UUID, enrolment_id: uuid.UUID, starts_on: date, ends_on: date
) -> Notice:
    """The premium received, and cover's first and last day (one period per application)."""
    values = Values(starts_on=starts_on, ends_on=ends_on)
    return Notice(member_id, Kind.COVER_STARTED, enrolment_id, values)


def period_notice(kind: Kind, member_id: uuid.UUID, starts_on: date, ends_on: date) -> Notice:
    """A period's renewal opening, or its end: once per period, which a member's periods tell
    apart by their last day."""
    values = Values(starts_on=starts_on, ends_on=ends_on)
    return Notice(member_id, kind, member_id, values, occasion=ends_on.isoformat())


def claim_filed(
    member_id: uuid.UUID, claim_id: uuid.UUID, status: str, missing_documents: Iterable[str]
) -> list[Notice]:
    """A claim received for review, or waiting for documents (named, never by their code)."""
    kind = _FILED.get(status)
    if kind is None:
        return []
    values = Values(ref=claim_id, documents=tuple(missing_documents))
    return [Notice(member_id, kind, claim_id, values)]


def claim_decided(
    member_id: uuid.UUID, claim_id: uuid.UUID, round_: int, approved: bool, payable_fen: int
) -> Notice:
    """A decision, first or on appeal: approved with what it pays, or refused (no reasons:
    they may tell of health)."""
    if approved:
        values = Values(ref=claim_id, amount_fen=payable_fen)
        return Notice(member_id, Kind.CLAIM_APPROVED, claim_id, values, occasion=str(round_))
    return Notice(
        member_id, Kind.CLAIM_REFUSED, claim_id, Values(ref=claim_id), occasion=str(round_)
    )


def payout_paid(
    member_id: uuid.UUID,
    claim_id: uuid.UUID,
    instruction_id: uuid.UUID,
    amount_fen: int,
    paid_on: date,
) -> Notice:
    """The transfer of one instruction paid (a reissue is a new instruction, a new message)."""
    values = Values(ref=claim_id, amount_fen=amount_fen, paid_on=paid_on)
    return Notice(member_id, Kind.PAYOUT_PAID, instruction_id, values)


def payout_failed(member_id: uuid.UUID, claim_id: uuid.UUID, instruction_id: uuid.UUID) -> Notice:
    """The transfer of one instruction refused, failed, or returned by the bank after it was
    paid: one message whichever way it came."""
    return Notice(member_id, Kind.PAYOUT_FAILED, instruction_id, Values(ref=claim_id))


def refund_paid(member_id: uuid.UUID, refund_id: uuid.UUID) -> Notice:
    return Notice(member_id, Kind.REFUND_PAID, refund_id)
