"""The outbox of messages to workers, and what each phone was sent each day.

A row is written in the transaction that records its event, so a message exists exactly when
its event committed. `event_key` is unique: an event written twice (a retried request, two
workers sweeping the same period) still makes one message. `text` is rendered when the row is
written and holds no personal data (templates take dates, short references and the payout's
amount only); the phone is not stored here, it is read from the member and decrypted only by the
job that sends.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, CreatedAt, UUIDPrimaryKey, sql_values


class Kind(StrEnum):
    """One template each (`templates.toml`)."""

    APPLICATION_ACCEPTED = "application_accepted"  # awaiting payment
    APPLICATION_PENDING_REVIEW = "application_pending_review"
    APPLICATION_REFUSED = "application_refused"
    COVER_STARTED = "cover_started"  # the premium received, and the first day of cover
    RENEWAL_OPEN = "renewal_open"
    COVER_ENDED = "cover_ended"
    CLAIM_RECEIVED = "claim_received"
    CLAIM_DOCUMENTS_NEEDED = "claim_documents_needed"
    CLAIM_APPROVED = "claim_approved"
    CLAIM_REFUSED = "claim_refused"
    PAYOUT_PAID = "payout_paid"
    PAYOUT_FAILED = "payout_failed"
    REFUND_PAID = "refund_paid"


class Status(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # handed to a job worker, which may be calling the gateway
    SENT = "sent"  # the gateway took it
    CAPPED = "capped"  # the phone had its day's messages already: not sent
    FAILED = "failed"  # refused by the gateway, or not taken after every attempt
    SKIPPED = "skipped"  # nobody to send to (no phone, a recorded death)


FINAL = frozenset({Status.SENT, Status.CAPPED, Status.FAILED, Status.SKIPPED})


class Notification(UUIDPrimaryKey, CreatedAt, Base):
    """One message to one member about one event. Its id is the gateway's idempotency key."""

    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint(f"kind IN ({sql_values(Kind)})", name="kind"),
        CheckConstraint(f"status IN ({sql_values(Status)})", name="status"),
        Index(None, "member_id", "created_at"),
        Index(None, "status", "created_at"),
    )

    # `<kind>:<the record it is about>[:<which time>]`: one message per event, whatever retries.
    event_key: Mapped[str] = mapped_column(String(160), unique=True)
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    kind: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(12), default=Status.PENDING.value)
    attempts: Mapped[int] = mapped_column(default=0)
    # The job (and its worker) sending it now; another may take it over only once that job's
    # lease is gone (the worker died), and then sends the same id again.
    held_by_job: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    held_by: Mapped[str | None] = mapped_column(String(64))
    # The Shanghai day whose cap this message was counted against (set once, before sending).
    counted_on: Mapped[date | None]
    gateway_ref: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(String(64))
    sent_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class PhoneDay(Base):
    """How many messages a phone (by its keyed hash, as members store it) was handed on one
    Shanghai day: raised by one conditional upsert that refuses to pass the cap."""

    __tablename__ = "notification_phone_days"
    __table_args__ = (CheckConstraint("messages >= 0", name="messages_not_negative"),)

    phone_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    messages: Mapped[int] = mapped_column(default=0)
