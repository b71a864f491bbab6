"""Payment orders and the gateway's notifications: premium in, cover on.

A notification is applied in one transaction: it is taken in once (`app.core.inbox`: a replay
finds its event id and changes nothing), the order moves open -> paid by a conditional UPDATE (two
different events for one order cannot both pay it), and what the order pays for is then done by
the handler of its purpose (`app.payments.purposes`): an application's cover starts the
Shanghai day after `paid_at`; a union invoice's activation is queued.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app import plans
from app.audit.service import Change, record
from app.core.clock import Clock, shanghai_date
from app.core.crypto import PersonalDataCipher
from app.core.errors import Conflict, NotFound
from app.core.inbox import DUPLICATE, take_in
from app.core.policy import Caller, Role
from app.enrolment.models import Enrolment, EnrolmentStatus
from app.ledger.postings import Movement
from app.ledger.service import Source, post
from app.payments import refunds
from app.payments.models import OPEN, PAID, PaymentNotification, PaymentOrder
from app.payments.purposes import PaidOrders, purpose_of
from app.payments.schemas import (
    PaymentNotificationIn,
    PaymentNotificationOut,
    PaymentOrderOut,
)
from app.rules.calendar import within_gateway_bounds
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
    plan = plans.of_record(enrolment.plan_code, enrolment.plan_version)
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
    record(
        session,
        Change(
            entity="payment_order",
            entity_id=order.id,
            action="created",
            client_id=caller.client_id,
            to_status=OPEN,
            details={"amount_fen": order.amount_fen, "enrolment_id": str(enrolment_id)},
        ),
    )
    return order_out(order), True


# Outcomes that refuse the notification: recorded (money may have moved), answered 422.
REFUSED = frozenset({"amount_mismatch", "paid_at_out_of_range"})


async def apply_notification(
    session: AsyncSession,
    cipher: PersonalDataCipher,
    clock: Clock,
    body: PaymentNotificationIn,
    paid_orders: PaidOrders,
) -> PaymentNotificationOut:
    received = await take_in(
        session,
        PaymentOrder,
        body.payment_order_id,
        PaymentNotification(
            event_id=body.event_id,
            payment_order_id=body.payment_order_id,
            status=body.status,
            amount_fen=body.amount_fen,
            paid_at=body.paid_at,
        ),
        NotFound("payment order not found", code="payment_order_not_found"),
    )
    if received is None:
        return PaymentNotificationOut(event_id=body.event_id, outcome=DUPLICATE)
    order = received.subject
    purpose = paid_orders[purpose_of(order)]

    async def refuse(outcome: str, action: str) -> PaymentNotificationOut:
        record(
            session,
            Change(
                entity="payment_order",
                entity_id=order.id,
                action=action,
                client_id=None,
                from_status=order.status,
                to_status=order.status,
                details={"event_id": body.event_id, "amount_fen": body.amount_fen},
            ),
        )
        return PaymentNotificationOut(event_id=body.event_id, outcome=received.conclude(outcome))

    if body.amount_fen != order.amount_fen:
        return await refuse("amount_mismatch", "payment_refused_amount")
    if body.status == "failed":
        order.failed_attempts += 1
        return await refuse("failed_recorded", "payment_failed")
    paid_on = shanghai_date(body.paid_at)
    if not within_gateway_bounds(paid_on, await purpose.applied_on(session, order), clock.today()):
        # A payment dated before the application, or in the future, would put cover in the wrong
        # place: a person must look at it.
        return await refuse("paid_at_out_of_range", "payment_refused_date")

    if not await _take_in_money(session, order, body):
        return await refuse("already_paid", "duplicate_payment_refund_due")
    record(
        session,
        Change(
            entity="payment_order",
            entity_id=order.id,
            action="paid",
            client_id=None,
            from_status=OPEN,
            to_status=PAID,
            details={"event_id": body.event_id, "amount_fen": body.amount_fen},
        ),
    )
    done = await purpose.paid(session, cipher, order, body.paid_at)
    return PaymentNotificationOut(
        event_id=body.event_id, outcome=received.conclude(done.outcome), coverage=done.coverage
    )


async def _take_in_money(
    session: AsyncSession, order: PaymentOrder, body: PaymentNotificationIn
) -> bool:
    """Record money received on the order, in the ledger too; True when it paid the order,
    False for a second real payment of a paid order, which is never income and is refunded."""
    paid = await session.execute(
        update(PaymentOrder)
        .where(PaymentOrder.id == order.id, PaymentOrder.status == OPEN)
        .values(status=PAID, paid_at=body.paid_at, channel=body.channel)
    )
    order.received_fen += body.amount_fen
    source = Source("payment_order", order.id)
    if paid.rowcount != 1:  # type: ignore[attr-defined]
        post(session, Movement.PAYMENT_NOT_OWED, body.amount_fen, source)
        await refunds.owe(session, order, body.amount_fen, "duplicate_payment", movement=None)
        return False
    post(session, Movement.PREMIUM_RECEIVED, body.amount_fen, source)
    return True
