"""Refunds: every premium the service cannot keep goes back to the method it was paid with.

A refund is owed in the transaction that decides the money cannot be kept (a duplicate payment,
an application no longer open, a member dead or 60 on the first day of cover, union rows that
did not start). Together an order's refunds never exceed what it received. A job instructs the
gateway with the refund's id as its idempotency key; the gateway's signed notification settles it.
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import Change, record
from app.core.clock import utc_now
from app.core.cursors import oldest_first
from app.core.errors import Conflict, NotFound
from app.enrolment.models import Enrolment
from app.jobs import queue
from app.ledger.postings import Movement
from app.ledger.service import Source, post
from app.notifications.events import refund_paid
from app.notifications.outbox import notify
from app.payments.models import PaymentOrder, Refund, RefundStatus
from app.payments.schemas import RefundOut, RefundPage

INSTRUCT_REFUND_JOB = "refund.instruct"
INSTRUCT_MAX_ATTEMPTS = 50


def source(refund: Refund) -> Source:
    return Source("refund", refund.id)


async def refundable_fen(session: AsyncSession, order: PaymentOrder) -> int:
    """What the order received and no refund covers yet. A failed refund still covers its
    amount (the money is still owed back, in `refunds_payable`) until it is retried, when the
    new refund covers it instead."""
    owed = await session.scalar(
        select(func.coalesce(func.sum(Refund.amount_fen), 0)).where(
            Refund.payment_order_id == order.id, Refund.status != RefundStatus.RETRIED.value
        )
    )
    return order.received_fen - int(owed or 0)


async def owe(
    session: AsyncSession,
    order: PaymentOrder,
    amount_fen: int,
    reason: str,
    movement: Movement | None = Movement.REFUND_DUE,
) -> Refund | None:
    """Owe a refund of `amount_fen` on `order` (the caller holds the order's row lock), cut to
    what the order can still give back; None when nothing is left to give back.

    `movement` is the ledger's view of the money: a premium taken as income is given back
    (`refund_due`); a duplicate payment was never income (`None`: posted when it came in).
    """
    amount = min(amount_fen, await refundable_fen(session, order))
    if amount <= 0:
        record(
            session,
            Change(
                entity="payment_order",
                entity_id=order.id,
                action="refund_not_owed",
                client_id=None,
                details={"reason": reason, "asked_fen": amount_fen},
            ),
        )
        return None
    refund = Refund(
        id=uuid.uuid4(),
        payment_order_id=order.id,
        amount_fen=amount,
        reason=reason,
        status=RefundStatus.PENDING.value,
    )
    session.add(refund)
    if movement is not None:
        post(session, movement, amount, source(refund))
    queue.enqueue(
        session,
        INSTRUCT_REFUND_JOB,
        {"refund_id": str(refund.id)},
        max_attempts=INSTRUCT_MAX_ATTEMPTS,
    )
    audit(session, refund, "owed", None)
    return refund


def audit(session: AsyncSession, refund: Refund, action: str, from_status: str | None) -> None:
    record(
        session,
        Change(
            entity="refund",
            entity_id=refund.id,
            action=action,
            client_id=None,
            from_status=from_status,
            to_status=refund.status,
            details={
                "payment_order_id": str(refund.payment_order_id),
                "amount_fen": refund.amount_fen,
                "reason": refund.reason,
            },
        ),
    )


_SETTLED = frozenset(
    {RefundStatus.SUCCEEDED.value, RefundStatus.FAILED.value, RefundStatus.RETRIED.value}
)


def settle(session: AsyncSession, refund: Refund, succeeded: bool, reason: str | None) -> str:
    """The gateway's word on an instructed (or still pending) refund; the outcome recorded.

    A refund's first outcome is final: a failed one that was retried is owed by its successor,
    so a late success for it must not post the money as paid a second time."""
    if refund.status in _SETTLED:
        return "already_settled"
    before = refund.status
    now = utc_now()
    refund.updated_at = refund.settled_at = now
    if succeeded:
        refund.status = RefundStatus.SUCCEEDED.value
        post(session, Movement.REFUND_PAID, refund.amount_fen, source(refund))
        audit(session, refund, "succeeded", before)
        return "refunded"
    refund.status = RefundStatus.FAILED.value
    refund.failure_reason = (reason or "failed")[:64]
    audit(session, refund, "failed", before)
    return "failed_recorded"


async def tell_payer(session: AsyncSession, refund: Refund) -> None:
    """A refund paid on the government app's order: its member hears of it. A union's invoice
    was paid by the union, which is not sent messages."""
    member_id = await session.scalar(
        select(Enrolment.member_id)
        .join(PaymentOrder, PaymentOrder.enrolment_id == Enrolment.id)
        .where(PaymentOrder.id == refund.payment_order_id)
    )
    if member_id is not None:
        await notify(session, [refund_paid(member_id, refund.id)])


def refund_out(refund: Refund) -> RefundOut:
    return RefundOut(
        id=refund.id,
        payment_order_id=refund.payment_order_id,
        amount_fen=refund.amount_fen,
        reason=refund.reason,
        status=refund.status,
        failure_reason=refund.failure_reason,
        created_at=refund.created_at,
        settled_at=refund.settled_at,
    )


async def listing(
    session: AsyncSession, status: RefundStatus | None, limit: int, cursor: str | None
) -> RefundPage:
    """Refunds oldest first, a page at a time (the finance office's queue)."""
    conditions = [] if status is None else [Refund.status == status.value]
    rows, next_cursor = await oldest_first(session, Refund, limit, cursor, *conditions)
    return RefundPage(items=[refund_out(r) for r in rows], next_cursor=next_cursor)


async def retry(session: AsyncSession, client_id: uuid.UUID, refund_id: uuid.UUID) -> RefundOut:
    """A failed refund tried again: a new refund (a new id, so the gateway does not answer with
    the old failure) for the same order, amount and reason. The money was owed all along: the
    ledger is not touched."""
    failed = await session.get(Refund, refund_id, with_for_update=True, populate_existing=True)
    if failed is None:
        raise NotFound("refund not found", code="refund_not_found")
    if failed.status != RefundStatus.FAILED.value:
        raise Conflict(f"a {failed.status} refund cannot be retried", code="refund_not_retryable")
    again = Refund(
        id=uuid.uuid4(),
        payment_order_id=failed.payment_order_id,
        amount_fen=failed.amount_fen,
        reason=failed.reason,
        status=RefundStatus.PENDING.value,
    )
    session.add(again)
    failed.status, failed.retried_by, failed.updated_at = (
        RefundStatus.RETRIED.value,
        again.id,
        utc_now(),
    )
    queue.enqueue(
        session,
        INSTRUCT_REFUND_JOB,
        {"refund_id": str(again.id)},
        max_attempts=INSTRUCT_MAX_ATTEMPTS,
    )
    audit(session, failed, "retried", RefundStatus.FAILED.value)
    audit(session, again, "owed", None)
    await session.flush()
    return refund_out(again)
