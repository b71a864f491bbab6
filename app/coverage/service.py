"""Coverage views: a member's periods, and per benefit what was used and what remains."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app import plans
from app.core.crypto import PersonalDataCipher
from app.core.policy import Caller
from app.coverage.models import CoveragePeriodRecord
from app.coverage.schemas import BenefitUsage, CeilingUsage, CoverageView, LookupOut, PeriodOut
from app.coverage.usage import usage_of_period
from app.members.models import Member
from app.members.schemas import MemberIdentity
from app.members.service import find_by_identity, visible_member
from app.rules.id_numbers import normalise
from app.rules.limits import PER_ACCIDENT, benefit_limit_fen, remaining_fen


async def _period_out(session: AsyncSession, row: CoveragePeriodRecord, today: date) -> PeriodOut:
    plan = plans.of_record(row.plan_code, row.plan_version)
    usage = await usage_of_period(session, row.id)
    status = "upcoming" if today < row.starts_on else "ended" if today > row.ends_on else "active"
    return PeriodOut(
        plan_code=row.plan_code,
        plan_version=row.plan_version,
        starts_on=row.starts_on,
        ends_on=row.ends_on,
        status=status,
        continues_previous=row.continues_previous,
        benefits=[
            BenefitUsage(
                benefit=code,
                used_fen=usage.paid(code),
                limit_fen=benefit_limit_fen(plan, code),
                remaining_fen=remaining_fen(plan, usage, code),
                limit_per="accident" if code in PER_ACCIDENT else "period",
            )
            for code in plan.benefits
        ],
        ceiling=CeilingUsage(
            used_fen=usage.total_paid_fen,
            limit_fen=plan.ceiling_fen.value,
            remaining_fen=max(0, plan.ceiling_fen.value - usage.total_paid_fen),
        ),
    )


async def _periods(session: AsyncSession, member: Member, today: date) -> list[PeriodOut]:
    rows = (
        await session.scalars(
            select(CoveragePeriodRecord)
            .where(CoveragePeriodRecord.member_id == member.id)
            .order_by(CoveragePeriodRecord.starts_on)
        )
    ).all()
    return [await _period_out(session, row, today) for row in rows]


def _covered(member: Member, periods: list[PeriodOut], today: date) -> bool:
    alive = member.died_on is None or today <= member.died_on
    return alive and any(p.status == "active" for p in periods)


async def coverage(
    session: AsyncSession, caller: Caller, member_id: uuid.UUID, today: date
) -> CoverageView:
    member = visible_member(caller, await session.get(Member, member_id))
    periods = await _periods(session, member, today)
    return CoverageView(
        member_id=member.id,
        covered_today=_covered(member, periods, today),
        died_on=member.died_on,
        periods=periods,
    )


async def lookup(
    session: AsyncSession,
    cipher: PersonalDataCipher,
    caller: Caller,
    id_number: str,
    name: str,
    today: date,
) -> LookupOut:
    """A wrong name, an unknown ID number and another union's member are the same 404."""
    found = await find_by_identity(session, cipher, normalise(id_number), name)
    member = visible_member(caller, found)
    periods = await _periods(session, member, today)
    current = next((p for p in periods if p.status == "active"), None) or next(
        (p for p in periods if p.status == "upcoming"), None
    )
    return LookupOut(
        member_id=member.id,
        member=MemberIdentity.of(member),
        union_org_code=member.union_org_code,
        covered_today=_covered(member, periods, today),
        current_period=current,
    )
