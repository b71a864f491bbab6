"""A union's members, oldest first, each with the state of their cover today.

Ownership is the query's: a union lists the members bound to its own org code
(`members.union_org_code`), over the index on (union_org_code, union_bound_at, id), and nothing
else. Identities are shown masked, as every answer shows them.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app import plans
from app.core.clock import SHANGHAI
from app.core.cursors import after, cursor_of
from app.core.policy import Caller, Role
from app.coverage.models import CoveragePeriodRecord
from app.members.models import Member
from app.rules.coverage import CoveragePeriod, MemberCover, in_force_or_next
from app.unions.schemas import UnionMemberOut, UnionMembersPage


async def page(
    session: AsyncSession, caller: Caller, cursor: str | None, limit: int, today: date
) -> UnionMembersPage:
    tenant = caller.tenant
    if tenant is None or tenant.role is not Role.UNION:
        # A union client bound to no union sees nothing (fails closed, as `Caller.sees`).
        return UnionMembersPage(union_org_code="", members=[], next_cursor=None)
    query = select(Member).where(Member.union_org_code == tenant.code)
    if cursor:
        bound_at: Any = Member.union_bound_at  # never null for a union's member
        query = query.where(after(cursor, bound_at, Member.id))
    query = query.order_by(Member.union_bound_at, Member.id).limit(limit + 1)
    found = list((await session.scalars(query)).all())
    listed = found[:limit]
    covers = await _covers(session, listed, today)
    last = listed[-1] if listed else None
    return UnionMembersPage(
        union_org_code=tenant.code,
        members=[_out(member, covers[member.id], today) for member in listed],
        next_cursor=cursor_of(_bound_at(last), last.id)
        if last is not None and len(found) > limit
        else None,
    )


def _bound_at(member: Member) -> datetime:
    assert member.union_bound_at is not None  # a bound member (ck_members_union_bound)
    return member.union_bound_at


async def _covers(
    session: AsyncSession, listed: list[Member], today: date
) -> dict[uuid.UUID, CoveragePeriod | None]:
    """Each listed member's period in force today, else the next paid one."""
    rows = await session.scalars(
        select(CoveragePeriodRecord).where(
            CoveragePeriodRecord.member_id.in_([m.id for m in listed]),
            CoveragePeriodRecord.ends_on >= today,
        )
    )
    periods: dict[uuid.UUID, list[CoveragePeriodRecord]] = defaultdict(list)
    for row in rows:
        periods[row.member_id].append(row)
    return {m.id: _current(m, periods[m.id], today) for m in listed}


def _current(
    member: Member, rows: list[CoveragePeriodRecord], today: date
) -> CoveragePeriod | None:
    if not rows:
        return None
    death_ends_cover = all(
        plans.of_record(r.plan_code, r.plan_version).claims.death_ends_cover.value for r in rows
    )
    cover = MemberCover(tuple(CoveragePeriod(r.starts_on, r.ends_on) for r in rows), member.died_on)
    return in_force_or_next(cover, today, death_ends_cover=death_ends_cover)


def _out(member: Member, period: CoveragePeriod | None, today: date) -> UnionMemberOut:
    return UnionMemberOut(
        member_id=member.id,
        id_number_masked=member.id_number_masked,
        name_masked=member.name_masked,
        union_member_number=member.union_member_number,
        joined_on=_bound_at(member).astimezone(SHANGHAI).date(),
        cover="none" if period is None else "active" if period.covers(today) else "upcoming",
        cover_starts_on=period.starts_on if period else None,
        cover_ends_on=period.ends_on if period else None,
    )
