"""The ends of cover, and platforms hearing `coverage.ended` about them.

Two ways cover ends: a period runs out with no renewal continuing it (found by a periodic
sweep the job worker runs), or the member dies (`record_death`, in the transaction of the
decision that accepts the death; the date of death is then the last day).
`coverage_periods.end_announced_at` marks a period whose end has been dealt with, so each end is
announced once, whichever way it came. Coverage writes its own rows here; the webhooks package
only turns the change into events and deliveries (`app.webhooks.outbox.emit`).
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import sealing
from app.core.clock import utc_now
from app.core.runtime import Runtime
from app.coverage.models import CoveragePeriodRecord
from app.members.models import Member
from app.notifications.events import period_notice
from app.notifications.models import Kind
from app.notifications.outbox import notify
from app.rules.calendar import ONE_DAY
from app.rules.plan import Plan
from app.webhooks.models import EventType
from app.webhooks.outbox import CoverageChange, emit

SWEEP_CHUNK = 500


async def record_death(session: AsyncSession, member: Member, died_on: date, plan: Plan) -> None:
    """A death accepted by a decision (paid or not): the member's date of death is the earliest
    one accepted, and, where the plan says a death ends cover, the cover platforms still believe
    in ends on that day."""
    if member.died_on is not None and member.died_on <= died_on:
        return
    member.died_on = died_on
    if plan.claims.death_ends_cover.value:
        await _announce_death(session, member.id, died_on)


async def _announce_death(session: AsyncSession, member_id: uuid.UUID, died_on: date) -> int:
    """Cover the platform still believes in (a period whose end was not announced, running on
    the day or paid ahead) ends on the date of death. Returns the number of events written."""
    periods = (
        await session.scalars(
            select(CoveragePeriodRecord)
            .where(
                CoveragePeriodRecord.member_id == member_id,
                CoveragePeriodRecord.ends_on >= died_on,
            )
            .order_by(CoveragePeriodRecord.starts_on)
        )
    ).all()
    open_ = [p for p in periods if p.end_announced_at is None]
    if not open_:
        return 0  # cover had already ended, and was announced then
    now = utc_now()
    for period in open_:
        period.end_announced_at = now
    # Name the period the death fell in (even if a renewal had already continued it), else
    # the paid-ahead one that now never starts; `ends_on` is the last covered day either way.
    named = next((p for p in periods if p.starts_on <= died_on), open_[0])
    return await emit(
        session,
        [
            CoverageChange(
                member_id, EventType.COVERAGE_ENDED, named.plan_code, named.starts_on, died_on
            )
        ],
    )


async def sweep_ended_periods(runtime: Runtime) -> int:
    """Announce every period that ended before today and was not continued; the number of
    periods dealt with. Safe to run in several workers at once (rows are claimed with
    SKIP LOCKED and marked in the same transaction)."""
    today = runtime.clock.today()
    handled = 0
    while True:
        async with runtime.db.writer() as session:
            batch = await _sweep_chunk(session, today)
            await session.commit()
        handled += batch
        if batch < SWEEP_CHUNK:
            return handled


async def _sweep_chunk(session: AsyncSession, today: date) -> int:
    periods = (
        await session.scalars(
            select(CoveragePeriodRecord)
            .where(
                CoveragePeriodRecord.ends_on < today,
                CoveragePeriodRecord.end_announced_at.is_(None),
            )
            .order_by(CoveragePeriodRecord.ends_on, CoveragePeriodRecord.id)
            .limit(SWEEP_CHUNK)
            .with_for_update(skip_locked=True)
        )
    ).all()
    if not periods:
        return 0
    member_ids = {p.member_id for p in periods}
    # A period is continued when another starts the next day; a member who died had the end
    # of cover announced with the death.
    followers = {
        (member_id, starts_on)
        for member_id, starts_on in await session.execute(
            select(CoveragePeriodRecord.member_id, CoveragePeriodRecord.starts_on).where(
                CoveragePeriodRecord.member_id.in_(member_ids)
            )
        )
    }
    cipher = sealing.cipher_of(session)
    died: dict[uuid.UUID, date] = {
        member_id: Member.died_on.opened(died_on, cipher) or date.max
        for member_id, died_on in await session.execute(
            select(Member.id, Member.died_on_cipher).where(
                Member.id.in_(member_ids), Member.died_on_cipher.is_not(None)
            )
        )
    }
    changes = [
        CoverageChange(p.member_id, EventType.COVERAGE_ENDED, p.plan_code, p.starts_on, p.ends_on)
        for p in periods
        if (p.member_id, p.ends_on + ONE_DAY) not in followers
        and died.get(p.member_id, date.max) > p.ends_on
    ]
    await emit(session, changes)
    await notify(
        session,
        [period_notice(Kind.COVER_ENDED, c.member_id, c.starts_on, c.ends_on) for c in changes],
    )
    await session.execute(
        update(CoveragePeriodRecord)
        .where(CoveragePeriodRecord.id.in_([p.id for p in periods]))
        .values(end_announced_at=utc_now())
    )
    return len(periods)
