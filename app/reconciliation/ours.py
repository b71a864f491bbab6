"""What the service recorded on one Shanghai day, as the bill would list it: premiums received
(duplicates too), refunds made, transfers paid and returned; and what it holds as not moved."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import SHANGHAI
from app.payments.models import PaymentNotification, Refund, RefundStatus
from app.payouts.models import PayoutInstruction
from app.reconciliation.matching import Entry, Key

# Payment notifications whose money the service took in (first payment, or a duplicate owed back).
TAKEN_IN = ("activated", "refund_due", "activation_queued", "already_paid", "paid")


def _day(day: date) -> tuple[datetime, datetime]:
    begin = datetime.combine(day, time(), SHANGHAI)
    return begin, begin + timedelta(days=1)


async def entries_of(session: AsyncSession, day: date) -> list[Entry]:
    begin, end = _day(day)
    entries = [
        Entry("payment", str(order_id), amount)
        for order_id, amount in await session.execute(
            select(PaymentNotification.payment_order_id, PaymentNotification.amount_fen).where(
                PaymentNotification.status == "succeeded",
                PaymentNotification.outcome.in_(TAKEN_IN),
                PaymentNotification.paid_at >= begin,
                PaymentNotification.paid_at < end,
            )
        )
    ]
    entries += [
        Entry("refund", str(refund_id), amount)
        for refund_id, amount in await session.execute(
            select(Refund.id, Refund.amount_fen).where(
                Refund.status == RefundStatus.SUCCEEDED.value,
                Refund.settled_at >= begin,
                Refund.settled_at < end,
            )
        )
    ]
    instruction = PayoutInstruction
    entries += [
        Entry("transfer", str(i), amount)
        for i, amount in await session.execute(
            select(instruction.id, instruction.amount_fen).where(
                instruction.paid_at >= begin, instruction.paid_at < end
            )
        )
    ]
    entries += [
        Entry("transfer", str(i), -amount)
        for i, amount in await session.execute(
            select(instruction.id, instruction.amount_fen).where(
                instruction.returned_at >= begin, instruction.returned_at < end
            )
        )
    ]
    return entries


async def not_moved(session: AsyncSession, refs: set[Key]) -> dict[Key, str]:
    """Of these billed references that we have no money movement for that day, those we know and
    hold as failed: the bill moving them is a status difference."""
    held: dict[Key, str] = {}
    transfers = _ids(ref for kind, ref in refs if kind == "transfer")
    if transfers:
        for row_id, status in await session.execute(
            select(PayoutInstruction.id, PayoutInstruction.status).where(
                PayoutInstruction.id.in_(transfers), PayoutInstruction.status == "failed"
            )
        ):
            held[("transfer", str(row_id))] = status
    refunds = _ids(ref for kind, ref in refs if kind == "refund")
    if refunds:
        for row_id, status in await session.execute(
            select(Refund.id, Refund.status).where(
                Refund.id.in_(refunds), Refund.status == RefundStatus.FAILED.value
            )
        ):
            held[("refund", str(row_id))] = status
    return held


def _ids(refs: Iterable[str]) -> list[uuid.UUID]:
    """The references that can be ours (our ids are UUIDs; anything else is not ours)."""
    ids = []
    for ref in refs:
        try:
            ids.append(uuid.UUID(ref))
        except ValueError:
            continue
    return ids
