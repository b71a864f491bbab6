"""The union's invoice: one payment order for a batch's accepted rows, and what its payment does.

The payment notification marks the order paid and, in the same transaction, enqueues the
activation of every enrolment it pays for; the activation job starts their cover in chunks,
each chunk one transaction, all from the same `paid_at` (so each period starts the Shanghai day
after payment, however long the activation takes). An enrolment that can no longer start cover
(it expired unpaid, or the person is 60 on the first day) is counted as `refund_due`.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app import plans
from app.audit.service import Change, record
from app.batches.models import BatchStatus, EnrolmentBatch
from app.core.crypto import PersonalDataCipher
from app.core.runtime import Runtime
from app.enrolment.models import Enrolment, EnrolmentStatus
from app.jobs import queue
from app.jobs.models import Job
from app.jobs.worker import Heartbeat
from app.payments import activation, refunds
from app.payments.models import OPEN, PaymentOrder, Refund
from app.payments.purposes import Paid
from app.rules.plan import Plan

ACTIVATION_JOB = "enrolment_batch.activate"
# Enrolments whose cover one transaction starts. Each brings a period, ledger lines, a message
# and events: 500 held a transaction (and those members' rows) for about 1.5 s under a mixed
# load; 100 keep it near a third of a second for the same total time.
ACTIVATION_CHUNK = 100
ROWS_NOT_STARTED = "invoice_rows_not_started"


async def close_batch(
    session: AsyncSession, batch_id: uuid.UUID, plan: Plan, now: datetime
) -> None:
    """Mark the batch done and, when a row was accepted, issue its invoice: accepted rows x the
    plan's premium, in fen."""
    batch = await session.get(EnrolmentBatch, batch_id, populate_existing=True)
    assert batch is not None
    batch.status = BatchStatus.DONE.value
    batch.finished_at = now
    counts = {"accepted": batch.accepted, "rejected": batch.rejected, "duplicate": batch.duplicate}
    record(
        session,
        Change(
            entity="enrolment_batch",
            entity_id=batch.id,
            action="done",
            client_id=None,
            to_status=BatchStatus.DONE.value,
            details=counts,
        ),
    )
    if batch.accepted == 0:
        return
    order = PaymentOrder(
        id=uuid.uuid4(),
        batch_id=batch.id,
        amount_fen=batch.accepted * plan.premium_fen.value,
        status=OPEN,
    )
    session.add(order)
    await session.flush()
    record(
        session,
        Change(
            entity="payment_order",
            entity_id=order.id,
            action="created",
            client_id=None,
            to_status=OPEN,
            details={
                "amount_fen": order.amount_fen,
                "batch_id": str(batch.id),
                "rows": batch.accepted,
            },
        ),
    )


class InvoicePayment:
    """What paying a union's invoice does (registered in `app.handlers.PAID_ORDERS`): the
    activation of its enrolments is queued, in the notification's transaction."""

    async def applied_on(self, session: AsyncSession, order: PaymentOrder) -> date:
        batch = await session.get(EnrolmentBatch, order.batch_id)
        assert batch is not None
        return batch.applied_on

    async def paid(
        self,
        session: AsyncSession,
        cipher: PersonalDataCipher,
        order: PaymentOrder,
        paid_at: datetime,
    ) -> Paid:
        assert order.batch_id is not None
        queue.enqueue(
            session, ACTIVATION_JOB, {"batch_id": str(order.batch_id), "order_id": str(order.id)}
        )
        return Paid("activation_queued")


async def run_activation_job(runtime: Runtime, job: Job, heartbeat: Heartbeat) -> None:
    batch_id = uuid.UUID(job.payload["batch_id"])
    order_id = uuid.UUID(job.payload["order_id"])
    while await _activate_some(runtime, batch_id, order_id):
        if not await heartbeat():
            return
    await _count_refunds_due(runtime, batch_id)


async def _activate_some(runtime: Runtime, batch_id: uuid.UUID, order_id: uuid.UUID) -> bool:
    """Start cover for the next few enrolments the invoice pays for; False when none is left."""
    async with runtime.db.writer() as session:
        order = await session.get(PaymentOrder, order_id)
        assert order is not None
        assert order.paid_at is not None
        enrolments = (
            await session.scalars(
                select(Enrolment)
                .where(
                    Enrolment.batch_id == batch_id,
                    Enrolment.status == EnrolmentStatus.AWAITING_PAYMENT.value,
                )
                .order_by(Enrolment.id)
                .limit(ACTIVATION_CHUNK)
                .with_for_update()
            )
        ).all()
        if not enrolments:
            return False
        results = await activation.activate_many(
            session, runtime.cipher, enrolments, order, order.paid_at
        )
        started = sum(1 for r in results if r.outcome == "activated")
        await session.execute(
            update(EnrolmentBatch)
            .where(EnrolmentBatch.id == batch_id)
            .values(
                activated=EnrolmentBatch.activated + started,
                refund_due=EnrolmentBatch.refund_due + len(enrolments) - started,
            )
            .execution_options(synchronize_session=False)
        )
        await session.commit()
    return True


async def _count_refunds_due(runtime: Runtime, batch_id: uuid.UUID) -> None:
    """Every paid-for enrolment that did not start cover is money to give back: those refused
    on the first day, and those no longer open (left unpaid past the plan's validity)."""
    async with runtime.db.writer() as session:
        batch = await session.get(EnrolmentBatch, batch_id, with_for_update=True)
        assert batch is not None
        batch.refund_due = batch.accepted - batch.activated
        await _owe_refund(session, batch)
        record(
            session,
            Change(
                entity="enrolment_batch",
                entity_id=batch.id,
                action="activated",
                client_id=None,
                details={"activated": batch.activated, "refund_due": batch.refund_due},
            ),
        )
        await session.commit()


async def _owe_refund(session: AsyncSession, batch: EnrolmentBatch) -> None:
    """The invoice's rows that did not start cover are refunded in one part-refund of the
    invoice (what is left of it after refunds already owed: a rerun owes nothing twice)."""
    if batch.refund_due <= 0:
        return
    order = (
        await session.scalars(
            select(PaymentOrder).where(PaymentOrder.batch_id == batch.id).with_for_update()
        )
    ).one()
    plan = plans.of_record(batch.plan_code, batch.plan_version)
    already = await session.scalar(
        select(func.coalesce(func.sum(Refund.amount_fen), 0)).where(
            Refund.payment_order_id == order.id,
            Refund.reason == ROWS_NOT_STARTED,
        )
    )
    missing = batch.refund_due * plan.premium_fen.value - int(already or 0)
    if missing > 0:
        await refunds.owe(session, order, missing, ROWS_NOT_STARTED)
