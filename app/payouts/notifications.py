"""What the gateway says happened to a transfer: paid, failed, or returned after it was paid.

A notification is taken in once (`app.core.inbox`); its amount must be the payout's. Only the
payout's current instruction moves it: a late word about an instruction that was replaced is
recorded and changes nothing. `succeeded` for a payout still `ready` means the gateway's answer
beat the instructing job's commit: it is instructed and paid in one step.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import Clock, shanghai_date, utc_now
from app.core.errors import NotFound
from app.core.inbox import DUPLICATE, take_in
from app.coverage.models import CoveragePeriodRecord
from app.ledger.postings import Movement
from app.ledger.service import post
from app.payouts.lifecycle import audit, source, tell_member
from app.payouts.models import Payout, PayoutInstruction, PayoutNotification, PayoutStatus
from app.payouts.schemas import PayoutNotificationIn, PayoutNotificationOut
from app.rules.calendar import within_gateway_bounds

REFUSED = frozenset({"amount_mismatch", "paid_at_out_of_range"})
SENT = (PayoutStatus.READY.value, PayoutStatus.INSTRUCTED.value)


async def apply_notification(
    session: AsyncSession, clock: Clock, body: PayoutNotificationIn
) -> PayoutNotificationOut:
    received = await take_in(
        session,
        Payout,
        body.payout_id,
        PayoutNotification(
            event_id=body.event_id,
            payout_id=body.payout_id,
            status=body.status,
            amount_fen=body.amount_fen,
        ),
        NotFound("payout not found", code="payout_not_found"),
    )
    if received is None:
        return PayoutNotificationOut(event_id=body.event_id, outcome=DUPLICATE)
    payout = received.subject
    before = payout.status
    outcome = (
        await _apply(session, payout, body)
        if await _plausibly_dated(session, clock, payout, body)
        else "paid_at_out_of_range"
    )
    if outcome in ("paid", "failed_recorded", "returned_recorded"):
        await tell_member(session, payout)
    audit(
        session,
        payout,
        outcome,
        from_status=before,
        event_id=body.event_id,
        notified_fen=body.amount_fen,
    )
    return PayoutNotificationOut(event_id=body.event_id, outcome=received.conclude(outcome))


async def _plausibly_dated(
    session: AsyncSession, clock: Clock, payout: Payout, body: PayoutNotificationIn
) -> bool:
    """The bounds a premium's `paid_at` has: money for a benefit cannot move before the cover
    it is paid under began, nor after tomorrow."""
    cover_began = await session.scalar(
        select(CoveragePeriodRecord.starts_on).where(
            CoveragePeriodRecord.id == payout.coverage_period_id
        )
    )
    assert cover_began is not None  # a foreign key
    return within_gateway_bounds(shanghai_date(body.paid_at), cover_began, clock.today())


async def _apply(session: AsyncSession, payout: Payout, body: PayoutNotificationIn) -> str:
    if body.amount_fen != payout.amount_fen:
        return "amount_mismatch"
    if body.transfer_id is not None and body.transfer_id != payout.current_instruction_id:
        return "not_current"
    instruction = (
        await session.get(PayoutInstruction, payout.current_instruction_id, with_for_update=True)
        if payout.current_instruction_id
        else None
    )
    if body.status == "returned":
        return _returned(session, payout, instruction, body)
    if payout.status == PayoutStatus.PAID.value:
        return "already_paid"
    if payout.status not in SENT:
        return "not_current"
    if body.status == "failed":
        return _failed(session, payout, instruction, body)
    if payout.status == PayoutStatus.READY.value:
        post(session, Movement.TRANSFER_INSTRUCTED, payout.amount_fen, source(payout))
    post(session, Movement.TRANSFER_PAID, payout.amount_fen, source(payout))
    _moved(payout, instruction, PayoutStatus.PAID, None)
    payout.paid_at = body.paid_at
    if instruction is not None:
        instruction.paid_at = body.paid_at
    return "paid"


def _failed(
    session: AsyncSession,
    payout: Payout,
    instruction: PayoutInstruction | None,
    body: PayoutNotificationIn,
) -> str:
    if payout.status == PayoutStatus.INSTRUCTED.value:  # only then was it posted as sent
        post(session, Movement.TRANSFER_FAILED, payout.amount_fen, source(payout))
    _moved(payout, instruction, PayoutStatus.FAILED, body.reason or "failed")
    return "failed_recorded"


def _returned(
    session: AsyncSession,
    payout: Payout,
    instruction: PayoutInstruction | None,
    body: PayoutNotificationIn,
) -> str:
    if payout.status != PayoutStatus.PAID.value:
        return "not_current"
    post(session, Movement.TRANSFER_RETURNED, payout.amount_fen, source(payout))
    _moved(payout, instruction, PayoutStatus.RETURNED, body.reason or "returned")
    payout.paid_at = None
    if instruction is not None:
        instruction.returned_at = body.paid_at
    return "returned_recorded"


def _moved(
    payout: Payout,
    instruction: PayoutInstruction | None,
    status: PayoutStatus,
    reason: str | None,
) -> None:
    payout.status = status.value
    payout.failure_reason = reason
    payout.updated_at = utc_now()
    if instruction is not None:
        instruction.status = {"paid": "succeeded"}.get(status.value, status.value)
        instruction.failure_reason = reason
