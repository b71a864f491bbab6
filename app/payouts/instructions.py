"""The job that asks the gateway to move a payout's money, once per instruction.

The instruction's id is the gateway's `transfer_id`: a retried job, or the job of a worker that
was killed in the middle of the call, sends the same id again and the gateway pays it once. No
database transaction is open while the gateway is called.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import utc_now
from app.core.runtime import Runtime
from app.gateway.client import GatewayClient, GatewayRefused, GatewayUnavailable
from app.gateway.contract import Account, TransferIn
from app.jobs import queue
from app.jobs.models import Job
from app.jobs.worker import Heartbeat
from app.ledger.postings import Movement
from app.ledger.service import post
from app.payouts import accounts
from app.payouts.lifecycle import audit, source, tell_member
from app.payouts.models import Payout, PayoutInstruction, PayoutStatus

NOT_CONFIGURED_RETRY_SECONDS = 300.0
UNAVAILABLE_RETRY_SECONDS = 30.0


async def run_instruct_job(runtime: Runtime, job: Job, heartbeat: Heartbeat) -> None:
    instruction_id = uuid.UUID(str(job.payload["instruction_id"]))
    async with runtime.db.reader() as session:
        instruction = await session.get(PayoutInstruction, instruction_id)
        payout = await session.get(Payout, instruction.payout_id) if instruction else None
    if instruction is None or payout is None or not _still_to_send(payout, instruction):
        return
    if not runtime.settings.gateway_url:
        raise queue.RetryLater(NOT_CONFIGURED_RETRY_SECONDS, "gateway_not_configured")
    assert payout.account_cipher is not None
    account = accounts.open_sealed(runtime.cipher, payout.account_cipher)
    transfer = TransferIn(
        transfer_id=str(instruction.id),
        amount_fen=instruction.amount_fen,
        account=Account.model_validate(account.model_dump()),
        reference=str(payout.id),
    )
    try:
        accepted = await GatewayClient.from_runtime(runtime).transfer(transfer)
    except GatewayUnavailable as exc:  # the outcome is unknown: ask again with the same id
        raise queue.RetryLater(UNAVAILABLE_RETRY_SECONDS, "gateway_unavailable") from exc
    except GatewayRefused as exc:
        if exc.about_us:  # a setting to fix, not a refusal of this transfer
            raise queue.RetryLater(
                NOT_CONFIGURED_RETRY_SECONDS, f"gateway_http_{exc.status}"
            ) from exc
        await _refused(runtime, instruction_id, exc.code or f"http_{exc.status}")
        return
    await _sent(runtime, instruction_id, accepted.gateway_ref)


async def _locked(
    session: AsyncSession, instruction_id: uuid.UUID
) -> tuple[Payout, PayoutInstruction]:
    """The payout, then its instruction, locked in that order: the order the gateway's
    notification takes them in, so that the two never wait on each other in a deadlock."""
    payout_id = await session.scalar(
        select(PayoutInstruction.payout_id).where(PayoutInstruction.id == instruction_id)
    )
    payout = await session.get(Payout, payout_id, with_for_update=True, populate_existing=True)
    instruction = await session.get(
        PayoutInstruction, instruction_id, with_for_update=True, populate_existing=True
    )
    assert payout is not None
    assert instruction is not None
    return payout, instruction


def _still_to_send(payout: Payout, instruction: PayoutInstruction) -> bool:
    return (
        instruction.status == "pending"
        and payout.current_instruction_id == instruction.id
        and payout.status == PayoutStatus.READY.value
    )


async def _sent(runtime: Runtime, instruction_id: uuid.UUID, gateway_ref: str) -> None:
    """The gateway took the instruction. If its notification got here first, the payout has
    already moved on and this changes nothing."""
    async with runtime.db.writer() as session:
        payout, instruction = await _locked(session, instruction_id)
        instruction.gateway_ref = instruction.gateway_ref or gateway_ref
        if _still_to_send(payout, instruction):
            instruction.status = "sent"
            instruction.sent_at = utc_now()
            payout.status = PayoutStatus.INSTRUCTED.value
            payout.updated_at = utc_now()
            post(session, Movement.TRANSFER_INSTRUCTED, payout.amount_fen, source(payout))
            audit(session, payout, "instructed", from_status=PayoutStatus.READY.value)
        await session.commit()


async def _refused(runtime: Runtime, instruction_id: uuid.UUID, reason: str) -> None:
    """The gateway will not take it (a bad account, say): the payout failed, nothing moved."""
    async with runtime.db.writer() as session:
        payout, instruction = await _locked(session, instruction_id)
        if _still_to_send(payout, instruction):
            instruction.status = "failed"
            instruction.failure_reason = reason[:64]
            payout.status = PayoutStatus.FAILED.value
            payout.failure_reason = reason[:64]
            payout.updated_at = utc_now()
            audit(session, payout, "refused_by_gateway", from_status=PayoutStatus.READY.value)
            await tell_member(session, payout)
        await session.commit()
