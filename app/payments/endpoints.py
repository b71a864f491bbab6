from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from app.clients.auth import Authorized
from app.core import inbox, signing
from app.core.db import ReadSessionDep, SessionDep
from app.core.deps import CipherDep, ClockDep
from app.core.openapi_docs import AUTHENTICATED, SIGNED, problems, signed_json_body
from app.core.policy import Action, Caller
from app.idempotency.deps import Idempotency
from app.payments import refund_jobs, refunds, service
from app.payments.models import RefundStatus
from app.payments.purposes import PaidOrders
from app.payments.schemas import (
    PaymentNotificationIn,
    PaymentNotificationOut,
    PaymentOrderOut,
    RefundNotificationIn,
    RefundNotificationOut,
    RefundOut,
    RefundPage,
)

router = APIRouter(tags=["payments"])


async def _paid_orders(request: Request) -> PaidOrders:
    """What paying each kind of order does, as the application registered it."""
    paid_orders: PaidOrders = request.app.state.paid_orders
    return paid_orders


PaidOrdersDep = Annotated[PaidOrders, Depends(_paid_orders)]


@router.post(
    "/enrolments/{enrolment_id}/payment-orders",
    status_code=201,
    response_model=PaymentOrderOut,
    responses=AUTHENTICATED | problems(404, 409),
    summary="A payment order for the premium (government app)",
    description="201 with a new order, or 200 with the enrolment's order that is still open.",
)
async def create_payment_order(
    enrolment_id: uuid.UUID,
    caller: Annotated[Caller, Authorized(Action.PAYMENT_ORDERS_CREATE)],
    idempotency: Idempotency,
    session: SessionDep,
    clock: ClockDep,
) -> object:
    order, created = await service.open_order(session, caller, enrolment_id, clock.today())
    return await idempotency.respond(order, status_code=201 if created else 200)


@router.post(
    "/payment-notifications",
    response_model=PaymentNotificationOut,
    responses=SIGNED,
    summary="The payment gateway tells us an order was paid (HMAC-signed)",
    description='`X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.rawbody">`. Stale '
    "(over 300 s), unsigned or wrongly signed notifications get 401; a wrong amount 422. A "
    "repeated `event_id` changes nothing. Success starts cover the next Shanghai day.",
    openapi_extra=signed_json_body(PaymentNotificationIn),
)
async def payment_notification(
    request: Request,
    paid_orders: PaidOrdersDep,
    session: SessionDep,
    cipher: CipherDep,
    clock: ClockDep,
) -> object:
    body = await signing.signed_body(request, PaymentNotificationIn)
    result = await service.apply_notification(session, cipher, clock, body, paid_orders)
    return inbox.answer(result, service.REFUSED, "Payment")


@router.get(
    "/refunds",
    response_model=RefundPage,
    responses=AUTHENTICATED | problems(400),
    summary="Refunds, oldest first, by status (finance)",
)
async def list_refunds(
    caller: Annotated[Caller, Authorized(Action.REFUNDS_READ)],
    session: ReadSessionDep,
    status: RefundStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> RefundPage:
    return await refunds.listing(session, status, limit, cursor)


@router.post(
    "/refunds/{refund_id}/retry",
    response_model=RefundOut,
    responses=AUTHENTICATED | problems(404, 409),
    summary="Try a failed refund again, as a new refund (finance)",
    description="The failed refund becomes `retried`; the new one, for the same order, amount "
    "and reason, is instructed to the gateway under its own id.",
)
async def retry_refund(
    refund_id: uuid.UUID,
    caller: Annotated[Caller, Authorized(Action.REFUNDS_RETRY)],
    session: SessionDep,
) -> RefundOut:
    return await refunds.retry(session, caller.client_id, refund_id)


@router.post(
    "/refund-notifications",
    response_model=RefundNotificationOut,
    responses=SIGNED,
    summary="The payment gateway tells us a refund was made or failed (HMAC-signed)",
    description="Signed like `/v1/payment-notifications`. A repeated `event_id` changes nothing; "
    "a wrong amount is recorded and answered 422 `amount_mismatch`.",
    openapi_extra=signed_json_body(RefundNotificationIn),
)
async def refund_notification(
    request: Request,
    session: SessionDep,
) -> object:
    body = await signing.signed_body(request, RefundNotificationIn)
    result = await refund_jobs.apply_notification(session, body)
    return inbox.answer(result, refund_jobs.REFUSED, "Refund")
