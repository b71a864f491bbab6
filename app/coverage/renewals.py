"""Renewal opening: platforms hear `coverage.renewal_open` once per period, from the day the plan
lets the period be renewed (`renewal_opens_days_before_end` before its end), so the worker can be
reminded (notifications to workers build on this event).

A periodic task of the job workers looks at the periods ending within the widest renewal window
of the installed plan versions that were not dealt with yet; the rules core says, per period,
whether to announce, wait, or say nothing ever (`app.rules.coverage.renewal_notice`: already
renewed, the member died or would be past the age limit, or the period ended before the task saw
it open). `coverage_periods.renewal_announced_at` marks a period dealt with, in the transaction
that writes its event, so each opening is announced once, whichever worker sees it.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from sqlalchemy import select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from app import plans
from app.core.clock import utc_now
from app.core.crypto import PersonalDataCipher
from app.core.runtime import Runtime
from app.coverage.models import CoveragePeriodRecord
from app.members.models import Member
from app.members.service import ID_NUMBER
from app.notifications.events import period_notice
from app.notifications.models import Kind
from app.notifications.outbox import notify
from app.rules.coverage import CoveragePeriod, RenewalNotice, renewal_notice
from app.rules.id_numbers import IdNumber, parse_id_number
from app.webhooks.models import EventType
from app.webhooks.outbox import CoverageChange, emit

SWEEP_CHUNK = 500
_Key = tuple[date, uuid.UUID]


async def announce_open_renewals(runtime: Runtime) -> int:
    """Announce every period whose renewal opened and was not announced; the number of periods
    dealt with (announced or marked). Safe in several workers at once (SKIP LOCKED)."""
    today = runtime.clock.today()
    horizon = today + timedelta(days=_widest_window())
    handled, after = 0, None
    while True:
        async with runtime.db.writer() as session:
            dealt, after = await _sweep_chunk(session, runtime.cipher, today, horizon, after)
            await session.commit()
        handled += dealt
        if after is None:
            return handled


def _widest_window() -> int:
    book = plans.book()
    return max(
        (
            p.period.renewal_opens_days_before_end.value
            for c in book.codes()
            for p in book.versions(c)
        ),
        default=0,
    )


async def _sweep_chunk(
    session: AsyncSession,
    cipher: PersonalDataCipher,
    today: date,
    horizon: date,
    after: _Key | None,
) -> tuple[int, _Key | None]:
    """Deal with the next chunk of candidates (after `after`, in end order); how many were dealt
    with, and where the next chunk starts (None when this was the last)."""
    query = (
        select(CoveragePeriodRecord)
        .where(
            CoveragePeriodRecord.renewal_announced_at.is_(None),
            CoveragePeriodRecord.ends_on <= horizon,
        )
        .order_by(CoveragePeriodRecord.ends_on, CoveragePeriodRecord.id)
        .limit(SWEEP_CHUNK)
        .with_for_update(skip_locked=True)
    )
    if after is not None:
        query = query.where(
            tuple_(CoveragePeriodRecord.ends_on, CoveragePeriodRecord.id) > tuple_(*after)
        )
    periods = (await session.scalars(query)).all()
    if not periods:
        return 0, None
    member_ids = {p.member_id for p in periods}
    members = {
        m.id: m for m in await session.scalars(select(Member).where(Member.id.in_(member_ids)))
    }
    last_starts: dict[uuid.UUID, date] = {}
    for member_id, starts_on in await session.execute(
        select(CoveragePeriodRecord.member_id, CoveragePeriodRecord.starts_on).where(
            CoveragePeriodRecord.member_id.in_(member_ids)
        )
    ):
        last_starts[member_id] = max(starts_on, last_starts.get(member_id, starts_on))
    dealt: list[uuid.UUID] = []
    changes: list[CoverageChange] = []
    for period in periods:
        member = members[period.member_id]
        notice = renewal_notice(
            plans.of_record(period.plan_code, period.plan_version),
            CoveragePeriod(period.starts_on, period.ends_on, period.continues_previous),
            today,
            renewed=last_starts[period.member_id] > period.starts_on,
            died_on=member.died_on,
            born_on=_born_on(cipher, member),
        )
        if notice is RenewalNotice.WAIT:
            continue
        dealt.append(period.id)
        if notice is RenewalNotice.ANNOUNCE:
            changes.append(
                CoverageChange(
                    period.member_id,
                    EventType.COVERAGE_RENEWAL_OPEN,
                    period.plan_code,
                    period.starts_on,
                    period.ends_on,
                )
            )
    await emit(session, changes)
    await notify(
        session,
        [period_notice(Kind.RENEWAL_OPEN, c.member_id, c.starts_on, c.ends_on) for c in changes],
    )
    if dealt:
        await session.execute(
            update(CoveragePeriodRecord)
            .where(CoveragePeriodRecord.id.in_(dealt))
            .values(renewal_announced_at=utc_now())
        )
    last = periods[-1]
    return len(dealt), (last.ends_on, last.id) if len(periods) == SWEEP_CHUNK else None


def _born_on(cipher: PersonalDataCipher, member: Member) -> date | None:
    identity = parse_id_number(cipher.decrypt(member.id_number_cipher, context=ID_NUMBER))
    return identity.birth_date if isinstance(identity, IdNumber) else None
