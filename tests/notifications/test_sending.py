"""Sending the outbox, on both databases, through the simulator in-process: a message goes once
to the member's phone (decrypted only to send), the same event never makes a second one, a phone
past its daily cap is not sent more, failures are retried with backoff and then recorded, a
refusal about how we call waits instead of failing, and two workers never send one message
twice (a dead worker's message is taken over and sent again under its id)."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from app.core.clock import utc_now
from app.handlers import JOB_HANDLERS
from app.jobs.models import Job, JobStatus
from app.jobs.queue import enqueue
from app.jobs.worker import Worker
from app.members.models import Member
from app.notifications.events import cover_started, period_notice
from app.notifications.models import Kind, Notification, PhoneDay
from app.notifications.outbox import SEND_JOB, forget_member, notify
from app.notifications.sending import purge_phone_days, retry_delay
from tests.support.enrolment import NOW
from tests.support.processes import wait_for
from tests.support.sms import SMS_SETTINGS
from tests.support.webhooks import seeded

STARTS, ENDS = date(2026, 11, 24), date(2027, 11, 23)


@pytest.fixture
async def member(app, db, runtime):
    return (await seeded(db, runtime, date(2026, 1, 1))).member_id


async def write(runtime, *notices) -> int:
    async with runtime.db.writer() as session:
        added = await notify(session, notices)
        await session.commit()
    return added


async def run_all(runtime, name: str = "w") -> int:
    worker = Worker(runtime, JOB_HANDLERS, name=name, lease_seconds=30)
    ran = 0
    while await worker.run_once():
        ran += 1
    return ran


async def stored(db) -> list[Notification]:
    async with db.reader() as session:
        query = select(Notification).order_by(Notification.created_at, Notification.event_key)
        return list((await session.scalars(query)).all())


async def jobs(db) -> list[Job]:
    async with db.reader() as session:
        return list((await session.scalars(select(Job).where(Job.kind == SEND_JOB))).all())


async def phone_of(db, member_id) -> str:
    async with db.reader() as session:
        return (await session.get(Member, member_id)).phone_masked


async def test_a_message_goes_once_to_the_members_phone(sms, db, runtime, member):
    await write(runtime, cover_started(member, member, STARTS, ENDS))

    await run_all(runtime)
    again = await run_all(runtime)

    [delivered] = sms.messages.values()
    [message] = await stored(db)
    assert delivered.body.message_id == str(message.id)
    assert (
        delivered.body.text
        == "【职工互助保障】保费已到账，您的互助保障自2026年11月24日起生效，至2027年11月23日止。"
    )
    masked = await phone_of(db, member)
    assert (delivered.body.phone[:3], delivered.body.phone[-4:]) == (masked[:3], masked[-4:])
    assert (message.status, message.attempts, message.counted_on) == ("sent", 1, NOW.date())
    assert message.gateway_ref == delivered.gateway_ref
    assert (message.sent_at is not None, message.held_by, message.held_by_job) == (True, None, None)
    [job] = await jobs(db)
    assert job.payload == {"message_id": str(message.id)}  # no phone, no text
    assert job.status == JobStatus.DONE.value
    assert again == 0


async def test_the_same_event_twice_is_one_message(sms, db, runtime, member):
    notice = period_notice(Kind.RENEWAL_OPEN, member, STARTS, ENDS)
    first = await write(runtime, notice)
    second = await write(runtime, notice, notice)

    await run_all(runtime)

    assert (first, second) == (1, 0)
    assert len(await stored(db)) == len(await jobs(db)) == len(sms.messages) == 1


@pytest.mark.parametrize("sms_settings", [SMS_SETTINGS | {"MUTUALAID_SMS_DAILY_CAP_PER_PHONE": 2}])
async def test_a_phone_past_its_daily_cap_is_not_sent_more(sms, db, runtime, member):
    for ends_on in (ENDS, ENDS + timedelta(days=1), ENDS + timedelta(days=2)):
        await write(runtime, period_notice(Kind.RENEWAL_OPEN, member, STARTS, ends_on))

    await run_all(runtime)

    statuses = [m.status for m in await stored(db)]
    assert sorted(statuses) == ["capped", "sent", "sent"]
    assert len(sms.messages) == 2
    async with db.reader() as session:
        [day] = (await session.scalars(select(PhoneDay))).all()
    assert (day.day, day.messages) == (NOW.date(), 2)


@pytest.mark.parametrize("sms_settings", [SMS_SETTINGS | {"MUTUALAID_SMS_ATTEMPTS": 3}])
async def test_no_answer_is_retried_with_backoff_then_recorded_failed(sms, db, runtime, member):
    sms.faults.extend(["error"] * 10)
    await write(runtime, cover_started(member, member, STARTS, ENDS))

    await run_all(runtime)

    [message] = await stored(db)
    assert (message.status, message.attempts, message.last_error) == (
        "failed",
        3,
        "sms_unavailable",
    )
    assert len(sms.calls) == 3
    assert sms.messages == {}
    assert [retry_delay(30, n) for n in (1, 2, 3, 8, 9)] == [30, 60, 120, 3600, 3600]


async def test_a_message_the_gateway_will_not_deliver_fails_at_once(sms, db, runtime, member):
    sms.faults.append("refuse")
    await write(runtime, cover_started(member, member, STARTS, ENDS))

    await run_all(runtime)

    [message] = await stored(db)
    assert (message.status, message.last_error, len(sms.calls)) == ("failed", "undeliverable", 1)


async def test_a_refusal_about_how_we_call_waits_instead_of_failing(sms, db, runtime, member):
    sms.secret = b"rotated at the gateway, not here"
    await write(runtime, cover_started(member, member, STARTS, ENDS))

    await run_all(runtime)

    [message] = await stored(db)
    [job] = await jobs(db)
    assert (message.status, message.attempts, message.last_error) == ("pending", 0, "sms_http_401")
    assert (job.status, job.last_error) == ("queued", "sms_http_401")
    assert job.run_after > utc_now() + timedelta(seconds=200)


@pytest.mark.parametrize("sms_settings", [{}])
async def test_without_a_gateway_messages_wait(sms, db, runtime, member):
    await write(runtime, cover_started(member, member, STARTS, ENDS))

    await run_all(runtime)

    [message] = await stored(db)
    [job] = await jobs(db)
    assert (message.status, job.status, job.last_error) == (
        "pending",
        "queued",
        "sms_not_configured",
    )


async def test_a_message_a_day_late_is_not_sent_late(sms, db, runtime, member):
    await write(runtime, cover_started(member, member, STARTS, ENDS))
    async with db.writer() as session:
        await session.execute(
            update(Notification).values(created_at=utc_now() - timedelta(hours=25))
        )
        await session.commit()

    await run_all(runtime)

    [message] = await stored(db)
    assert (message.status, message.last_error, sms.calls) == ("failed", "too_late", [])


async def test_nobody_is_told_after_a_recorded_death(sms, db, runtime, member):
    await write(runtime, cover_started(member, member, STARTS, ENDS))
    async with db.writer() as session:
        (await session.get(Member, member)).died_on = date(2026, 11, 20)
        await session.commit()

    await run_all(runtime)

    [message] = await stored(db)
    assert (message.status, message.last_error, sms.calls) == ("skipped", "member_deceased", [])


async def test_two_workers_never_send_one_message_twice(sms, db, runtime, member):
    await write(runtime, cover_started(member, member, STARTS, ENDS))
    [message] = await stored(db)
    async with db.writer() as session:  # a second job for the same message
        enqueue(session, SEND_JOB, {"message_id": str(message.id)})
        await session.commit()
    sms.holding = True
    first = Worker(runtime, JOB_HANDLERS, name="first", lease_seconds=30)
    second = Worker(runtime, JOB_HANDLERS, name="second", lease_seconds=30)

    sending = asyncio.create_task(first.run_once())
    await wait_for(lambda: _async(bool(sms.messages)), within=10)
    assert await second.run_once()  # the other job: the message is held, it waits
    [held] = await stored(db)
    assert (held.status, held.held_by) == ("sending", "first")
    assert sms.release() == 1
    await asyncio.wait_for(sending, timeout=10)

    [sent] = await stored(db)
    assert sent.status == "sent"
    assert len(sms.calls) == 1
    assert sorted(j.last_error or "" for j in await jobs(db)) == ["", "held_by_another_job"]


async def test_a_dead_workers_message_is_taken_over_and_sent_again_under_its_id(
    sms, db, runtime, member
):
    await write(runtime, cover_started(member, member, STARTS, ENDS))
    sms.holding = True
    dying = asyncio.create_task(Worker(runtime, JOB_HANDLERS, name="dying").run_once())
    await wait_for(lambda: _async(bool(sms.messages)), within=10)
    dying.cancel()  # the worker is gone mid-send; its job's lease runs out
    async with db.writer() as session:
        await session.execute(update(Job).values(locked_until=utc_now() - timedelta(seconds=1)))
        await session.commit()

    taking_over = asyncio.create_task(run_all(runtime, name="heir"))
    await wait_for(lambda: _async(len(sms.calls) == 2), within=10)
    sms.release()
    await asyncio.wait_for(taking_over, timeout=10)

    [message] = await stored(db)
    [delivered] = sms.messages.values()
    assert (message.status, message.attempts) == ("sent", 2)
    assert (delivered.body.message_id, delivered.calls) == (str(message.id), 2)
    async with db.reader() as session:
        [day] = (await session.scalars(select(PhoneDay))).all()
    assert day.messages == 1  # counted against the cap once


async def test_counts_of_past_days_are_purged(app, db, runtime):
    async with db.writer() as session:
        for day in (NOW.date(), NOW.date() - timedelta(days=1), NOW.date() - timedelta(days=2)):
            session.add(PhoneDay(phone_hash="a" * 64, day=day, messages=3))
        await session.commit()

    assert await purge_phone_days(runtime) == 1
    async with db.reader() as session:
        kept = sorted((await session.scalars(select(PhoneDay.day))).all())
    assert kept == [NOW.date() - timedelta(days=1), NOW.date()]


async def _async(value):
    return value


async def test_a_forgotten_members_messages_are_gone_and_never_sent(sms, db, runtime, member):
    await write(runtime, cover_started(member, member, STARTS, ENDS))
    async with db.writer() as session:
        forgotten = await forget_member(session, member)
        await session.commit()

    await run_all(runtime)

    assert (forgotten, await stored(db), sms.calls) == (1, [], [])
