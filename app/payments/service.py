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
from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import record
from app.core.clock import Clock, shanghai_date
from app.core.crypto import PersonalDataCipher
from app.core.errors import Conflict, NotFound, Unprocessable
from app.core.policy import Caller, Role
from app.coverage.models import CoveragePeriodRecord
from app.enrolment.models import Enrolment, EnrolmentStatus
from app.members.models import Member
from app.members.service import ID_NUMBER, apply_contact, link_platform_worker
from app.payments.models import OPEN, PAID, PaymentNotification, PaymentOrder
from app.payments.schemas import (
    CoverageOut,
    PaymentNotificationIn,
    PaymentNotificationOut,
    PaymentOrderOut,
)
from app.plans import get_plan
from app.rules.calendar import ONE_DAY
from app.rules.coverage import CoveragePeriod, application_expired, period_for_payment
from app.rules.eligibility import check_age
from app.rules.id_numbers import IdNumber, parse_id_number


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
    if order.enrolment_id is None:
        raise Unprocessable("this order is not an enrolment's", code="payment_order_not_payable")
    enrolment = await session.get(Enrolment, order.enrolment_id)
    assert enrolment is not None
    paid_on = shanghai_date(body.paid_at)
    if paid_on < enrolment.applied_on or paid_on > clock.today() + ONE_DAY:
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
    outcome, coverage = await _activate(session, cipher, order, body.paid_at)
    notification.outcome = outcome
    return PaymentNotificationOut(event_id=body.event_id, outcome=outcome, coverage=coverage)


async def _activate(
    session: AsyncSession, cipher: PersonalDataCipher, order: PaymentOrder, paid_at: datetime
) -> tuple[str, CoverageOut | None]:
    assert order.enrolment_id is not None
    enrolment = await session.get(Enrolment, order.enrolment_id, with_for_update=True)
    assert enrolment is not None
    member = await session.get(Member, enrolment.member_id, with_for_update=True)
    assert member is not None
    plan = get_plan(enrolment.plan_code)
    assert plan is not None
    latest_row = (
        await session.scalars(
            select(CoveragePeriodRecord)
            .where(CoveragePeriodRecord.member_id == member.id)
            .order_by(CoveragePeriodRecord.ends_on.desc())
            .limit(1)
        )
    ).first()
    latest = (
        CoveragePeriod(latest_row.starts_on, latest_row.ends_on, latest_row.continues_previous)
        if latest_row
        else None
    )
    period = period_for_payment(plan, shanghai_date(paid_at), latest)
    identity = parse_id_number(cipher.decrypt(member.id_number_cipher, context=ID_NUMBER))
    assert isinstance(identity, IdNumber)
    too_old = check_age(plan, identity.birth_date, period.starts_on)
    new_status = EnrolmentStatus.REFUND_DUE if too_old else EnrolmentStatus.PAID
    await record(
        session,
        entity="enrolment",
        entity_id=enrolment.id,
        action="paid",
        client_id=None,
        from_status=enrolment.status,
        to_status=new_status.value,
        details={"refused_on_first_day": [f.code for f in too_old]} if too_old else None,
    )
    enrolment.status = new_status.value
    if too_old:
        return "refund_due", None
    # The application has become cover: now its contact details and platform account are the
    # member's.
    apply_contact(member, cipher, enrolment.name_cipher, enrolment.phone_cipher)
    link = await link_platform_worker(
        session, member, enrolment.platform_code, enrolment.platform_worker_id, enrolment.work_type
    )
    if link is None:
        await record(
            session,
            entity="member",
            entity_id=member.id,
            action="platform_link_conflict",
            client_id=None,
            details={"platform_code": enrolment.platform_code},
        )
    row = CoveragePeriodRecord(
        id=uuid.uuid4(),
        member_id=member.id,
        plan_code=plan.code,
        plan_version=plan.version,
        starts_on=period.starts_on,
        ends_on=period.ends_on,
        continues_previous=period.continues_previous,
        enrolment_id=enrolment.id,
        payment_order_id=order.id,
    )
    session.add(row)
    await session.flush()
    await record(
        session,
        entity="coverage_period",
        entity_id=row.id,
        action="activated",
        client_id=None,
        to_status="active",
        details={
            "starts_on": str(period.starts_on),
            "ends_on": str(period.ends_on),
            "member_id": str(member.id),
        },
    )
    return "activated", CoverageOut(
        starts_on=period.starts_on,
        ends_on=period.ends_on,
        continues_previous=period.continues_previous,
    )
