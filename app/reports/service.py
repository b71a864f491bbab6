"""The examiners' summary: a handful of grouped counts, each one query.

Days are Shanghai calendar days, as everywhere coverage is decided: a payout confirmed at
23:30 UTC on 31 March counts on 1 April. Moments (`paid_at`, decision times) are compared with
the range's first and last Shanghai midnight in UTC, so indexes on them can be used.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.claims.models import Claim, ClaimDecision, Payout, PayoutSettlement
from app.core.clock import SHANGHAI
from app.core.errors import Unprocessable
from app.core.schemas import EARLIEST_MOMENT, LATEST_MOMENT
from app.coverage.models import CoveragePeriodRecord
from app.enrolment.models import Enrolment
from app.members.models import Member
from app.reports.schemas import BenefitFigures, CoverFigures, EnrolmentFigures, Summary
from app.rules.decision import Outcome
from app.rules.vocabulary import BENEFIT_ORDER

MAX_RANGE_DAYS = 3660


def _moments(first: date, last: date) -> tuple[datetime, datetime]:
    """[first 00:00, the day after last 00:00) in Shanghai."""
    return (
        datetime.combine(first, time(), SHANGHAI),
        datetime.combine(last + timedelta(days=1), time(), SHANGHAI),
    )


async def summary(session: AsyncSession, first: date, last: date) -> Summary:
    if first > last:
        raise Unprocessable("`from` must not be after `to`", code="invalid_date_range")
    if first < EARLIEST_MOMENT.date() or last >= LATEST_MOMENT.date():
        raise Unprocessable("the days must be within 2000 to 2099", code="invalid_date_range")
    if (last - first).days >= MAX_RANGE_DAYS:
        raise Unprocessable(
            f"a summary covers at most {MAX_RANGE_DAYS} days", code="invalid_date_range"
        )
    begin, end = _moments(first, last)
    claims = await _claims(session, first, last, begin, end)
    return Summary(
        from_date=first,
        to_date=last,
        enrolments=await _enrolments(session, first, last),
        cover=await _cover(session, first, last),
        claims=claims,
        approved_fen=sum(c.approved_fen for c in claims),
        paid_fen=sum(c.paid_fen for c in claims),
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


async def _cover(session: AsyncSession, first: date, last: date) -> CoverFigures:
    period = CoveragePeriodRecord
    # A death ends cover after its day (the rules core: no benefit for events after it).
    in_force = and_(
        period.starts_on <= last,
        period.ends_on >= last,
        or_(Member.died_on.is_(None), Member.died_on >= last),
    )
    active = await session.scalar(
        select(func.count(func.distinct(period.member_id)))
        .join(Member, Member.id == period.member_id)
        .where(in_force)
    )
    started = await session.scalar(
        select(func.count()).select_from(period).where(period.starts_on.between(first, last))
    )
    return CoverFigures(active_on=last, active=active or 0, started=started or 0)


async def _claims(
    session: AsyncSession, first: date, last: date, begin: datetime, end: datetime
) -> list[BenefitFigures]:
    filed = (
        await session.execute(
            select(Claim.benefit, Claim.status, func.count())
            .where(Claim.filed_on.between(first, last))
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
            )
            .group_by(Claim.benefit)
        )
    ).all()
    paid = (
        await session.execute(
            select(Payout.benefit, func.count(), func.coalesce(func.sum(Payout.amount_fen), 0))
            .join(PayoutSettlement, PayoutSettlement.payout_id == Payout.id)
            .where(PayoutSettlement.paid_at >= begin, PayoutSettlement.paid_at < end)
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
