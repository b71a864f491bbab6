"""The job that instructs the gateway to make a refund, once per refund id; and the gateway's
signed word on it. No database transaction is open while the gateway is called."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import utc_now
from app.core.errors import NotFound
from app.core.inbox import DUPLICATE, take_in
from app.core.runtime import Runtime
from app.gateway.client import GatewayClient, GatewayRefused, GatewayUnavailable
from app.gateway.contract import RefundIn
from app.jobs import queue
from app.jobs.models import Job
from app.jobs.worker import Heartbeat
from app.payments.models import Refund, RefundNotification, RefundStatus
from app.payments.refunds import audit, settle, tell_payer
from app.payments.schemas import RefundNotificationIn, RefundNotificationOut

NOT_CONFIGURED_RETRY_SECONDS = 300.0
UNAVAILABLE_RETRY_SECONDS = 30.0
REFUSED = frozenset({"amount_mismatch"})


async def run_refund_job(runtime: Runtime, job: Job, heartbeat: Heartbeat) -> None:
    refund_id = uuid.UUID(str(job.payload["refund_id"]))
    async with runtime.db.reader() as session:
        refund = await session.get(Refund, refund_id)
    if refund is None or refund.status != RefundStatus.PENDING.value:
        return
    if not runtime.settings.gateway_url:
        raise queue.RetryLater(NOT_CONFIGURED_RETRY_SECONDS, "gateway_not_configured")
    instruction = RefundIn(
        refund_id=str(refund.id),
        payment_order_id=str(refund.payment_order_id),
        amount_fen=refund.amount_fen,
    )
    try:
        accepted = await GatewayClient.from_runtime(runtime).refund(instruction)
    except GatewayUnavailable as exc:  # unknown outcome: the same id again later
        raise queue.RetryLater(UNAVAILABLE_RETRY_SECONDS, "gateway_unavailable") from exc
    except GatewayRefused as exc:
        if exc.about_us:  # a setting to fix, not a refusal of this refund
            raise queue.RetryLater(
                NOT_CONFIGURED_RETRY_SECONDS, f"gateway_http_{exc.status}"
            ) from exc
        async with runtime.db.writer() as session:
            locked = await session.get(Refund, refund_id, with_for_update=True)
            assert locked is not None
            settle(session, locked, False, exc.code or f"http_{exc.status}")
            await session.commit()
        return
    async with runtime.db.writer() as session:
        locked = await session.get(Refund, refund_id, with_for_update=True)
        assert locked is not None
        locked.gateway_ref = locked.gateway_ref or accepted.gateway_ref
        if locked.status == RefundStatus.PENDING.value:  # its notification may have come first
            locked.status = RefundStatus.INSTRUCTED.value
            locked.instructed_at = locked.updated_at = utc_now()
            audit(session, locked, "instructed", RefundStatus.PENDING.value)
        await session.commit()


async def apply_notification(
    session: AsyncSession, body: RefundNotificationIn
) -> RefundNotificationOut:
    received = await take_in(
        session,
        Refund,
        body.refund_id,
        RefundNotification(
            event_id=body.event_id,
            refund_id=body.refund_id,
            status=body.status,
            amount_fen=body.amount_fen,
        ),
        NotFound("refund not found", code="refund_not_found"),
    )
    if received is None:
        return RefundNotificationOut(event_id=body.event_id, outcome=DUPLICATE)
    refund = received.subject
    if body.amount_fen != refund.amount_fen:
        outcome = "amount_mismatch"
    else:
        outcome = settle(session, refund, body.status == "succeeded", body.reason)
        if outcome != "already_settled":
            refund.settled_at = body.occurred_at  # the gateway's moment: the day its bill lists it
        if outcome == "refunded":
            await tell_payer(session, refund)
    return RefundNotificationOut(event_id=body.event_id, outcome=received.conclude(outcome))
