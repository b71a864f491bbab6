"""The examiners' summary: a handful of grouped counts, each one query.

Days are Shanghai calendar days, as everywhere coverage is decided (`app.reports.range`). The
fund's figures come from the ledger (`app.reports.fund`). The cover and claim figures also make
a district union's summary (`app.reports.unions`), over its own members only.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date, datetime

from sqlalchemy import Select, and_, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.claims.models import Claim, ClaimDecision
from app.core import sealing
from app.coverage.models import CoveragePeriodRecord
from app.enrolment.models import Enrolment
from app.members.models import Member
from app.payouts.models import Payout, PayoutStatus
from app.reports.fund import fund_report
from app.reports.range import checked_range, moments
from app.reports.schemas import BenefitFigures, CoverFigures, EnrolmentFigures, Summary
from app.rules.decision import Outcome
from app.rules.vocabulary import BENEFIT_ORDER

# The ids of some rows (a union's members, its batches), to narrow figures to them.
Ids = Select[uuid.UUID]


async def summary(session: AsyncSession, first: date, last: date) -> Summary:
    checked_range(first, last)
    begin, end = moments(first, last)
    claims = await claim_figures(session, first, last, begin, end)
    return Summary(
        from_date=first,
        to_date=last,
        enrolments=await _enrolments(session, first, last),
        cover=await cover_figures(session, first, last),
        claims=claims,
        approved_fen=sum(c.approved_fen for c in claims),
        paid_fen=sum(c.paid_fen for c in claims),
        fund=(await fund_report(session, first, last)).fund,
    )


async def _enrolments(session: AsyncSession, first: date, last: date) -> EnrolmentFigures:
    rows = (
        await session.execute(
            select(Enrolment.status, Enrolment.channel, func.count())
            .where(Enrolment.applied_on.between(first, last))
            .group_by(Enrolment.status, Enrolment.channel)
        )
    ).all()
    by_status: dict[str, int] = defaultdict(int)
    by_channel: dict[str, int] = defaultdict(int)
    for status, channel, count in rows:
        by_status[status] += count
        by_channel[channel] += count
    return EnrolmentFigures(
        applied=sum(by_status.values()), by_status=dict(by_status), by_channel=dict(by_channel)
    )


async def cover_figures(
    session: AsyncSession, first: date, last: date, members: Ids | None = None
) -> CoverFigures:
    """`members`: the ids of the members to count, when not all."""
    period = CoveragePeriodRecord
    of_period = [] if members is None else [period.member_id.in_(members)]
    in_force = and_(period.starts_on <= last, period.ends_on >= last)
    counted = await session.scalar(
        select(func.count(func.distinct(period.member_id))).where(in_force, *of_period)
    )
    # A death ends cover after its day (the rules core: no benefit for events after it). Dates
    # of death are sealed: the few members with one are looked at here.
    cipher = sealing.cipher_of(session)
    dead = await session.execute(
        select(Member.died_on_cipher).where(
            Member.died_on_cipher.is_not(None),
            exists().where(period.member_id == Member.id, in_force, *of_period),
        )
    )
    active = (counted or 0) - sum(
        1 for (blob,) in dead if Member.died_on.opened(blob, cipher) < last
    )
    started = await session.scalar(
        select(func.count())
        .select_from(period)
        .where(period.starts_on.between(first, last), *of_period)
    )
    return CoverFigures(active_on=last, active=active or 0, started=started or 0)


async def claim_figures(
    session: AsyncSession,
    first: date,
    last: date,
    begin: datetime,
    end: datetime,
    members: Ids | None = None,
) -> list[BenefitFigures]:
    """`members`: the ids of the members to count, when not all."""
    of_claim = [] if members is None else [Claim.member_id.in_(members)]
    filed = (
        await session.execute(
            select(Claim.benefit, Claim.status, func.count())
            .where(Claim.filed_on.between(first, last), *of_claim)
            .group_by(Claim.benefit, Claim.status)
        )
    ).all()
    approved = (
        await session.execute(
            select(
                Claim.benefit, func.count(), func.coalesce(func.sum(ClaimDecision.payable_fen), 0)
            )
            .join(Claim, Claim.id == ClaimDecision.claim_id)
            .where(
                ClaimDecision.outcome == Outcome.APPROVED.value,
                ClaimDecision.created_at >= begin,
                ClaimDecision.created_at < end,
                *of_claim,
            )
            .group_by(Claim.benefit)
        )
    ).all()
    paid = (
        await session.execute(
            select(Payout.benefit, func.count(), func.coalesce(func.sum(Payout.amount_fen), 0))
            # A payout the bank sent back is not paid (its status is `returned`, its paid_at gone).
            .where(Payout.status == PayoutStatus.PAID.value)
            .where(Payout.paid_at >= begin, Payout.paid_at < end)
            .where(*([] if members is None else [Payout.member_id.in_(members)]))
            .group_by(Payout.benefit)
        )
    ).all()
    by_status: dict[str, dict[str, int]] = defaultdict(dict)
    for benefit, status, count in filed:
        by_status[benefit][status] = count
    approvals = {benefit: (count, int(fen)) for benefit, count, fen in approved}
    payments = {benefit: (count, int(fen)) for benefit, count, fen in paid}
    return [
        BenefitFigures(
            benefit=benefit,
            filed=sum(by_status[benefit].values()),
            by_status=by_status[benefit],
            approved=approvals.get(benefit, (0, 0))[0],
            approved_fen=approvals.get(benefit, (0, 0))[1],
            paid=payments.get(benefit, (0, 0))[0],
            paid_fen=payments.get(benefit, (0, 0))[1],
        )
        for benefit in BENEFIT_ORDER
    ]
