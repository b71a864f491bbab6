"""Payment orders and the gateway's notifications: premium in, cover on.

A notification is applied in one transaction: its event id is recorded first (a replay finds
it and changes nothing), the order moves open -> paid by a conditional UPDATE (two different
events for one order cannot both pay it), the enrolment becomes paid, and the coverage period
the rules core computes is written, starting the Shanghai day after `paid_at`. A member who is
no longer eligible on that first day (the 60th birthday) gets no cover: the order is paid and the
enrolment marked `refund_due`.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import record
from app.batches import invoices
from app.batches.models import EnrolmentBatch
from app.core.clock import Clock, shanghai_date
from app.core.crypto import PersonalDataCipher
from app.core.errors import Conflict, NotFound
from app.core.policy import Caller, Role
from app.enrolment.models import Enrolment, EnrolmentStatus
from app.payments import activation
from app.payments.models import OPEN, PAID, PaymentNotification, PaymentOrder
from app.payments.schemas import (
    PaymentNotificationIn,
    PaymentNotificationOut,
    PaymentOrderOut,
)
from app.plans import get_plan
from app.rules.calendar import ONE_DAY
from app.rules.coverage import application_expired


def order_out(order: PaymentOrder) -> PaymentOrderOut:
    return PaymentOrderOut.model_validate(order)


async def open_order(
    session: AsyncSession, caller: Caller, enrolment_id: uuid.UUID, today: date
) -> tuple[PaymentOrderOut, bool]:
    """The enrolment's open payment order, created if there is none (True when created)."""
    enrolment = await session.get(Enrolment, enrolment_id, with_for_update=True)
    if enrolment is None or (
        caller.role is Role.CITIZEN_APP and enrolment.created_by_client_id != caller.client_id
    ):
        raise NotFound("enrolment not found", code="enrolment_not_found")
    if enrolment.status != EnrolmentStatus.AWAITING_PAYMENT.value:
        raise Conflict(
            f"an enrolment that is {enrolment.status} cannot be paid", code="enrolment_not_payable"
        )
    plan = get_plan(enrolment.plan_code)
    assert plan is not None, "an enrolment's plan is always shipped"
    if application_expired(plan, enrolment.applied_on, today):
        raise Conflict(
            "this application was left unpaid too long; apply again", code="enrolment_expired"
        )
    existing = (
        await session.scalars(
            select(PaymentOrder).where(
                PaymentOrder.enrolment_id == enrolment_id, PaymentOrder.status == OPEN
            )
        )
    ).first()
    if existing is not None:
        return order_out(existing), False
    order = PaymentOrder(
        id=uuid.uuid4(), enrolment_id=enrolment_id, amount_fen=plan.premium_fen.value, status=OPEN
    )
    session.add(order)
    await session.flush()
    await record(
        session,
        entity="payment_order",
        entity_id=order.id,
        action="created",
        client_id=caller.client_id,
        to_status=OPEN,
        details={"amount_fen": order.amount_fen, "enrolment_id": str(enrolment_id)},
    )
    return order_out(order), True


async def _applied_on(session: AsyncSession, order: PaymentOrder) -> date:
    """When what the order pays for was applied for: the enrolment's date, or the batch's."""
    if order.batch_id is not None:
        batch = await session.get(EnrolmentBatch, order.batch_id)
        assert batch is not None
        return batch.applied_on
    enrolment = await session.get(Enrolment, order.enrolment_id)
    assert enrolment is not None
    return enrolment.applied_on


# Outcomes that refuse the notification: recorded (money may have moved), answered 422.
REFUSED = frozenset({"amount_mismatch", "paid_at_out_of_range"})


async def apply_notification(
    session: AsyncSession, cipher: PersonalDataCipher, clock: Clock, body: PaymentNotificationIn
) -> PaymentNotificationOut:
    # Lock the order before anything else: recording the event first would take a key-share
    # lock on the order through the foreign key, and two notifications for one order would
    # then deadlock upgrading it. With the order locked first they simply queue.
    order = await session.get(PaymentOrder, body.payment_order_id, with_for_update=True)
    if order is None:
        raise NotFound("payment order not found", code="payment_order_not_found")
    try:
        async with session.begin_nested():
            session.add(
                PaymentNotification(
                    event_id=body.event_id,
                    payment_order_id=body.payment_order_id,
                    status=body.status,
                    amount_fen=body.amount_fen,
                    outcome="pending",
                )
            )
            await session.flush()
    except IntegrityError:
        return PaymentNotificationOut(event_id=body.event_id, outcome="duplicate")
    notification = await session.get(PaymentNotification, body.event_id)
    assert notification is not None

    async def settle(outcome: str, action: str | None = None) -> PaymentNotificationOut:
        notification.outcome = outcome
        if action:
            await record(
                session,
                entity="payment_order",
                entity_id=order.id,
                action=action,
                client_id=None,
                from_status=order.status,
                to_status=order.status,
                details={"event_id": body.event_id, "amount_fen": body.amount_fen},
            )
        return PaymentNotificationOut(event_id=body.event_id, outcome=outcome)

    if body.amount_fen != order.amount_fen:
        return await settle("amount_mismatch", "payment_refused_amount")
    if body.status == "failed":
        order.failed_attempts += 1
        return await settle("failed_recorded", "payment_failed")
    paid_on = shanghai_date(body.paid_at)
    if paid_on < await _applied_on(session, order) or paid_on > clock.today() + ONE_DAY:
        # A payment dated before the application, or in the future, would put cover in the wrong
        # place: a person must look at it.
        return await settle("paid_at_out_of_range", "payment_refused_date")

    paid = await session.execute(
        update(PaymentOrder)
        .where(PaymentOrder.id == order.id, PaymentOrder.status == OPEN)
        .values(status=PAID, paid_at=body.paid_at, channel=body.channel)
    )
    if paid.rowcount != 1:  # type: ignore[attr-defined]
        # A second real payment for a paid order: the money must go back.
        return await settle("already_paid", "duplicate_payment_refund_due")
    await record(
        session,
        entity="payment_order",
        entity_id=order.id,
        action="paid",
        client_id=None,
        from_status=OPEN,
        to_status=PAID,
        details={"event_id": body.event_id, "amount_fen": body.amount_fen},
    )
    if order.batch_id is not None:
        invoices.enqueue_activation(session, order)
        notification.outcome = "activation_queued"
        return PaymentNotificationOut(event_id=body.event_id, outcome="activation_queued")
    enrolment = await session.get(Enrolment, order.enrolment_id, with_for_update=True)
    assert enrolment is not None
    [started] = await activation.activate_many(session, cipher, [enrolment], order, body.paid_at)
    notification.outcome = started.outcome
    return PaymentNotificationOut(
        event_id=body.event_id, outcome=started.outcome, coverage=started.coverage
    )
