"""The `notifications.send` job: one message to the gateway, at most once.

1. Nothing to do for a message already finished; a message no longer timely (a day after its
   event) is `failed` rather than sent late; no member, no mobile or a recorded death: `skipped`.
2. Take the message (one conditional UPDATE): it is this job's while its worker holds the job's
   lease. Another job for it waits; once the holder is dead (its lease gone) the message may be
   taken over and sent again under the same id, which the gateway delivers once. The first take
   counts it against the phone's cap for the day (`capped` when full): a message handed to the
   gateway counts even if its outcome is unknown, since it may have been delivered.
3. Send, with no database transaction open; the phone is decrypted here and nowhere else.
4. Record: `sent`; refused (a 4xx about the message): `failed`; no answer: back to `pending`,
   retried with backoff until `MUTUALAID_SMS_ATTEMPTS`, then `failed`.
"""

from __future__ import annotations

import logging
import re
import uuid
from datetime import date, timedelta
from enum import Enum

from sqlalchemy import ColumnElement, and_, delete, exists, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import utc_now
from app.core.crypto import DecryptionError
from app.core.runtime import Runtime
from app.jobs.models import Job, JobStatus
from app.jobs.queue import RetryLater
from app.jobs.worker import Heartbeat
from app.members.models import Member
from app.members.service import PHONE, normalise_phone
from app.notifications.client import (
    SmsClient,
    SmsNotConfigured,
    SmsRefused,
    SmsUnavailable,
)
from app.notifications.contract import MessageIn
from app.notifications.models import FINAL, Notification, PhoneDay, Status

logger = logging.getLogger(__name__)

# A message not sent within a day of its event is not sent late.
TIMELY = timedelta(hours=24)
NOT_CONFIGURED_RETRY_SECONDS = 300.0
# Another job holds the message: look again when its lease may have run out.
HELD_RETRY_SECONDS = 5.0
RETRY_MAX_SECONDS = 3600.0
MOBILE = re.compile(r"1[3-9][0-9]{9}")


class _Taken(Enum):
    YES = "taken"
    HELD = "held"  # another live job has it
    DONE = "done"  # finished meanwhile, or capped now


async def run_send_job(runtime: Runtime, job: Job, heartbeat: Heartbeat) -> None:
    message_id = uuid.UUID(str(job.payload["message_id"]))
    async with runtime.db.reader() as session:
        message = await session.get(Notification, message_id)
        member = await session.get(Member, message.member_id) if message else None
    if message is None or Status(message.status) in FINAL:
        return
    if message.status == Status.PENDING and utc_now() - message.created_at > TIMELY:
        await _close_pending(runtime, message, Status.FAILED, "too_late")
        return
    phone, why_not = _recipient(runtime, member)
    if phone is None or member is None:
        await _close_pending(runtime, message, Status.SKIPPED, why_not)
        return
    try:
        client = SmsClient.from_runtime(runtime)
    except SmsNotConfigured as exc:
        raise RetryLater(NOT_CONFIGURED_RETRY_SECONDS, "sms_not_configured") from exc
    taken = await _take(runtime, message_id, job, member.phone_hash)
    if taken is _Taken.HELD:
        raise RetryLater(HELD_RETRY_SECONDS, "held_by_another_job")
    if taken is _Taken.DONE:
        return
    holder = _Holder(message_id, job)
    try:
        accepted = await client.send(
            MessageIn(message_id=str(message_id), phone=phone, text=message.text)
        )
    except SmsUnavailable as exc:
        await _unanswered(runtime, holder, type(exc).__name__)
        return
    except SmsRefused as exc:
        if exc.about_us:  # a setting to fix: the message is not at fault
            await _release(runtime, holder, f"sms_http_{exc.status}", counted=False)
            raise RetryLater(NOT_CONFIGURED_RETRY_SECONDS, f"sms_http_{exc.status}") from exc
        await _finish(runtime, holder, Status.FAILED, error=exc.code or f"http_{exc.status}")
        return
    await _finish(runtime, holder, Status.SENT, gateway_ref=accepted.gateway_ref)


def _recipient(runtime: Runtime, member: Member | None) -> tuple[str | None, str]:
    """The mobile number to send to, or None and why not."""
    if member is None:
        return None, "no_member"
    if member.died_on is not None:
        return None, "member_deceased"  # nobody to tell, and the phone may be another's now
    try:
        phone = normalise_phone(runtime.cipher.decrypt(member.phone_cipher, context=PHONE))
    except DecryptionError:
        return None, "phone_unreadable"
    if not MOBILE.fullmatch(phone):
        return None, "no_mobile"
    return phone, ""


class _Holder:
    """The message as held by one job on one worker: every write after the take is
    conditional on still holding it."""

    def __init__(self, message_id: uuid.UUID, job: Job) -> None:
        self.message_id = message_id
        self.job_id = job.id
        self.worker = job.locked_by

    def holds(self) -> list[ColumnElement[bool]]:
        return [
            Notification.id == self.message_id,
            Notification.status == Status.SENDING.value,
            Notification.held_by_job == self.job_id,
            Notification.held_by == self.worker,
        ]


async def _take(runtime: Runtime, message_id: uuid.UUID, job: Job, phone_hash: str) -> _Taken:
    now = utc_now()
    holder_alive = exists().where(
        Job.id == Notification.held_by_job,
        Job.status == JobStatus.RUNNING.value,
        Job.locked_by == Notification.held_by,
        Job.locked_until >= now,
    )
    async with runtime.db.writer() as session:
        taken = (
            await session.execute(
                update(Notification)
                .where(
                    Notification.id == message_id,
                    or_(
                        Notification.status == Status.PENDING.value,
                        and_(Notification.status == Status.SENDING.value, ~holder_alive),
                    ),
                )
                .values(
                    status=Status.SENDING.value,
                    held_by_job=job.id,
                    held_by=job.locked_by,
                    attempts=Notification.attempts + 1,
                )
                .returning(Notification.counted_on, Notification.status)
            )
        ).first()
        if taken is None:
            status = await session.scalar(
                select(Notification.status).where(Notification.id == message_id)
            )
            await session.rollback()
            return _Taken.DONE if status is None or Status(status) in FINAL else _Taken.HELD
        if taken.counted_on is None:
            today = runtime.clock.today()
            if not await _count(
                session, phone_hash, today, runtime.settings.sms_daily_cap_per_phone
            ):
                await session.execute(
                    update(Notification)
                    .where(Notification.id == message_id)
                    .values(
                        status=Status.CAPPED.value,
                        held_by_job=None,
                        held_by=None,
                        finished_at=utc_now(),
                    )
                )
                await session.commit()
                logger.info("message capped", extra={"message_id": str(message_id)})
                return _Taken.DONE
            await session.execute(
                update(Notification).where(Notification.id == message_id).values(counted_on=today)
            )
        await session.commit()
    return _Taken.YES


async def _count(session: AsyncSession, phone_hash: str, day: date, cap: int) -> bool:
    """One more message for this phone today, unless it has had `cap` already."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    row = dialect.insert(PhoneDay).values(phone_hash=phone_hash, day=day, messages=1)
    counted = await session.scalar(
        row.on_conflict_do_update(
            index_elements=[PhoneDay.phone_hash, PhoneDay.day],
            set_={"messages": PhoneDay.messages + 1},
            where=PhoneDay.messages < cap,
        ).returning(PhoneDay.messages)
    )
    return counted is not None


def retry_delay(base_seconds: float, attempts: int) -> float:
    """Wait after the `attempts`-th unanswered attempt: base, doubled each time, capped."""
    return float(min(RETRY_MAX_SECONDS, base_seconds * 2 ** min(attempts - 1, 30)))


async def _unanswered(runtime: Runtime, holder: _Holder, error: str) -> None:
    """No answer: try again later with the same id, or give up after the last attempt."""
    async with runtime.db.reader() as session:
        attempts = await session.scalar(
            select(Notification.attempts).where(Notification.id == holder.message_id)
        )
    attempts = int(attempts or 0)
    if attempts >= runtime.settings.sms_attempts:
        await _finish(runtime, holder, Status.FAILED, error="sms_unavailable")
        return
    await _release(runtime, holder, error, counted=True)
    raise RetryLater(
        retry_delay(runtime.settings.sms_retry_base_seconds, attempts), "sms_unavailable"
    )


async def _release(runtime: Runtime, holder: _Holder, error: str, *, counted: bool) -> None:
    """Back to `pending` for a later attempt; an attempt the gateway refused for how we call
    does not count as one."""
    values: dict[str, object] = {
        "status": Status.PENDING.value,
        "held_by_job": None,
        "held_by": None,
        "last_error": error[:64],
    }
    if not counted:
        values["attempts"] = Notification.attempts - 1
    async with runtime.db.writer() as session:
        await session.execute(update(Notification).where(*holder.holds()).values(**values))
        await session.commit()


async def _finish(
    runtime: Runtime,
    holder: _Holder,
    status: Status,
    *,
    error: str | None = None,
    gateway_ref: str | None = None,
) -> None:
    now = utc_now()
    async with runtime.db.writer() as session:
        await session.execute(
            update(Notification)
            .where(*holder.holds())
            .values(
                status=status.value,
                held_by_job=None,
                held_by=None,
                last_error=error[:64] if error else None,
                gateway_ref=gateway_ref,
                sent_at=now if status is Status.SENT else None,
                finished_at=now,
            )
        )
        await session.commit()
    extra = {"message_id": str(holder.message_id), "status": status.value}
    if status is Status.SENT:
        logger.info("message sent", extra=extra)
    else:
        logger.warning("message not sent", extra=extra | {"error": error})


async def _close_pending(
    runtime: Runtime, message: Notification, status: Status, error: str
) -> None:
    """Finish a message no job is sending (too late, or nobody to send to)."""
    async with runtime.db.writer() as session:
        await session.execute(
            update(Notification)
            .where(Notification.id == message.id, Notification.status == Status.PENDING.value)
            .values(status=status.value, last_error=error, finished_at=utc_now())
        )
        await session.commit()
    logger.info(
        "message not sent",
        extra={"message_id": str(message.id), "status": status.value, "error": error},
    )


async def purge_phone_days(runtime: Runtime) -> int:
    """Forget the per-phone counts of days before yesterday: the cap needs only today's."""
    before = runtime.clock.today() - timedelta(days=1)
    async with runtime.db.writer() as session:
        result = await session.execute(delete(PhoneDay).where(PhoneDay.day < before))
        await session.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]
