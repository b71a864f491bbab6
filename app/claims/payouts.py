"""The payout ledger: what approved claims owe, to whom, and the payment side's confirmations.

A payout is written with the approval that makes it owed and never changed; a settlement is
written once when the payment side's signed notification says the money reached the payee. A
notification is taken in once (`app.core.inbox`), so a replay finds it and changes nothing.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import Change, record
from app.claims.models import (
    Claim,
    PayeeKind,
    Payout,
    PayoutNotification,
    PayoutSettlement,
)
from app.claims.schemas import PayoutNotificationIn, PayoutNotificationOut, PayoutOut
from app.core.errors import NotFound
from app.core.inbox import DUPLICATE, take_in


def payout_out(payout: Payout, claim: Claim, settlement: PayoutSettlement | None) -> PayoutOut:
    return PayoutOut(
        id=payout.id,
        amount_fen=payout.amount_fen,
        payee_kind=PayeeKind(payout.payee_kind),
        payee_union_org_code=payout.payee_union_org_code,
        beneficiary_name_masked=claim.beneficiary_name_masked
        if payout.payee_kind == PayeeKind.BENEFICIARY
        else None,
        status="paid" if settlement else "owed",
        paid_at=settlement.paid_at if settlement else None,
    )


REFUSED = frozenset({"amount_mismatch"})


async def apply_notification(
    session: AsyncSession, body: PayoutNotificationIn
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
    if body.amount_fen != payout.amount_fen:
        outcome = "amount_mismatch"
    elif body.status == "failed":
        outcome = "failed_recorded"
    elif (
        await session.scalars(
            select(PayoutSettlement.payout_id).where(PayoutSettlement.payout_id == payout.id)
        )
    ).first() is not None:
        outcome = "already_paid"
    else:
        session.add(
            PayoutSettlement(
                payout_id=payout.id,
                member_id=payout.member_id,
                event_id=body.event_id,
                paid_at=body.paid_at,
                channel=body.channel,
            )
        )
        outcome = "paid"
    record(
        session,
        Change(
            entity="claim",
            entity_id=payout.claim_id,
            action=f"payout_{outcome}",
            client_id=None,
            details={
                "payout_id": str(payout.id),
                "event_id": body.event_id,
                "amount_fen": body.amount_fen,
            },
        ),
    )
    return PayoutNotificationOut(event_id=body.event_id, outcome=received.conclude(outcome))
