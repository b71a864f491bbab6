"""A district union's summary: the examiners' figures, narrowed to what is the union's own.

Its members are those bound to its org code (`members.union_org_code`); its batches are those
it uploaded. Enrolments are counted by channel: its members' own applications through the app,
and every row its batches enrolled (a batch may enrol another union's member, and pays for it).
Cover and claims are its members'; premiums are what its batch invoices paid.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.batches.models import EnrolmentBatch
from app.core.policy import Caller
from app.coverage.models import CoveragePeriodRecord
from app.enrolment.models import Enrolment, EnrolmentStatus
from app.members.models import Member
from app.payments.models import PAID, PaymentOrder, Refund, RefundStatus
from app.reports.range import checked_range, moments
from app.reports.schemas import (
    ChannelFigures,
    UnionEnrolmentFigures,
    UnionPremiums,
    UnionSummary,
)
from app.reports.service import Ids, claim_figures, cover_figures


async def union_summary(
    session: AsyncSession, caller: Caller, first: date, last: date
) -> UnionSummary:
    checked_range(first, last)
    begin, end = moments(first, last)
    tenant = caller.tenant
    # A union client bound to no union sees figures of nobody (fails closed).
    org = tenant.code if tenant is not None else None
    members = select(Member.id).where(Member.union_org_code == org)
    batches = select(EnrolmentBatch.id).where(EnrolmentBatch.union_org_code == org)
    claims = await claim_figures(session, first, last, begin, end, members)
    count = await session.scalar(
        select(func.count()).where(Member.union_org_code == org, Member.union_bound_at < end)
    )
    return UnionSummary(
        union_org_code=org or "",
        from_date=first,
        to_date=last,
        members=count or 0,
        enrolments=UnionEnrolmentFigures(
            individual=await _channel(
                session,
                (first, last, begin, end),
                Enrolment.channel == "individual",
                Enrolment.member_id.in_(members),
            ),
            batch=await _channel(
                session, (first, last, begin, end), Enrolment.batch_id.in_(batches)
            ),
        ),
        cover=await cover_figures(session, first, last, members),
        claims=claims,
        approved_fen=sum(c.approved_fen for c in claims),
        paid_fen=sum(c.paid_fen for c in claims),
        premiums=await _premiums(session, begin, end, batches),
    )


async def _channel(
    session: AsyncSession,
    bounds: tuple[date, date, datetime, datetime],
    *whose: ColumnElement[bool],
) -> ChannelFigures:
    first, last, begin, end = bounds
    accepted = await session.scalar(
        select(func.count()).where(
            Enrolment.applied_on.between(first, last),
            Enrolment.status != EnrolmentStatus.REJECTED.value,
            *whose,
        )
    )
    paid = await session.scalar(
        select(func.count())
        .select_from(CoveragePeriodRecord)
        .join(Enrolment, Enrolment.id == CoveragePeriodRecord.enrolment_id)
        .join(PaymentOrder, PaymentOrder.id == CoveragePeriodRecord.payment_order_id)
        .where(PaymentOrder.paid_at >= begin, PaymentOrder.paid_at < end, *whose)
    )
    return ChannelFigures(accepted=accepted or 0, paid=paid or 0)


async def _premiums(
    session: AsyncSession, begin: datetime, end: datetime, batches: Ids
) -> UnionPremiums:
    invoices = PaymentOrder.batch_id.in_(batches)
    paid_count, paid_fen = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(PaymentOrder.amount_fen), 0)).where(
                invoices,
                PaymentOrder.status == PAID,
                PaymentOrder.paid_at >= begin,
                PaymentOrder.paid_at < end,
            )
        )
    ).one()
    refunded = await session.scalar(
        select(func.coalesce(func.sum(Refund.amount_fen), 0))
        .join(PaymentOrder, PaymentOrder.id == Refund.payment_order_id)
        .where(
            invoices,
            Refund.status == RefundStatus.SUCCEEDED.value,
            Refund.settled_at >= begin,
            Refund.settled_at < end,
        )
    )
    return UnionPremiums(
        invoices_paid=paid_count, paid_fen=int(paid_fen), refunded_fen=int(refunded or 0)
    )
