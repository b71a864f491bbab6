"""A payout's way from owed to paid: which account, whether a second approval is needed, and
the instruction that asks the gateway to move the money.

    awaiting_account -> awaiting_approval -> ready -> instructed -> paid
                                                           \\-> failed    paid -> returned
    failed | returned -> (reissued) ready

Every step locks the payout's row, writes its audit entry on the claim's history and posts its
ledger entry in the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import Change, record
from app.core.clock import shanghai_date, utc_now
from app.jobs import queue
from app.ledger.postings import Movement
from app.ledger.service import Source, post
from app.notifications.events import payout_failed, payout_paid
from app.notifications.outbox import notify
from app.payouts import accounts
from app.payouts.models import PayeeKind, Payout, PayoutInstruction, PayoutStatus

INSTRUCT_JOB = "payout.instruct"
# Instructions wait out a gateway outage: many attempts, each a safe repeat of the same id.
INSTRUCT_MAX_ATTEMPTS = 50


def source(payout: Payout) -> Source:
    return Source("payout", payout.id, payout.member_id)


def audit(
    session: AsyncSession,
    payout: Payout,
    action: str,
    *,
    client_id: uuid.UUID | None = None,
    from_status: str | None = None,
    **details: object,
) -> None:
    """A payout's step, on its claim's history (`payout_<action>`); ids and amounts only."""
    record(
        session,
        Change(
            entity="claim",
            entity_id=payout.claim_id,
            action=f"payout_{action}",
            client_id=client_id,
            from_status=from_status,
            to_status=payout.status,
            details={"payout_id": str(payout.id), "amount_fen": payout.amount_fen} | details,
        ),
    )


@dataclass(frozen=True, slots=True)
class Owed:
    """What an approved claim owes, as the claim's decision states it."""

    claim_id: uuid.UUID
    member_id: uuid.UUID
    period_id: uuid.UUID
    benefit: str
    amount_fen: int
    payee: PayeeKind
    union_org_code: str | None
    decided_by_client_id: uuid.UUID
    four_eyes_from_fen: int
    # The account given with the claim, which goes before the one on file.
    given_account: accounts.Sealed | None = None
    # The accounts on file by owner, when the caller read them with its other reads (the
    # payee's missing: none on file); None: `owe` reads the payee's.
    on_file: Mapping[str, accounts.Sealed] | None = None


async def owe(session: AsyncSession, owed: Owed) -> Payout:
    """Write the payout an approval owes, post the benefit to the ledger, and move it as far
    as it can go now (an account on file and no second approval needed: instructed)."""
    payout = Payout(
        id=uuid.uuid4(),
        claim_id=owed.claim_id,
        member_id=owed.member_id,
        coverage_period_id=owed.period_id,
        benefit=owed.benefit,
        amount_fen=owed.amount_fen,
        payee_kind=owed.payee.value,
        payee_union_org_code=owed.union_org_code,
        status=PayoutStatus.AWAITING_ACCOUNT.value,
        four_eyes=owed.amount_fen >= owed.four_eyes_from_fen,
        decided_by_client_id=owed.decided_by_client_id,
    )
    account = owed.given_account
    if account is None:
        owner = _owner(payout)
        account = (
            owed.on_file.get(owner)
            if owed.on_file is not None
            else await accounts.stored(session, owner)
        )
    if account is not None:
        _use(payout, account)
    session.add(payout)
    post(session, Movement.BENEFIT_APPROVED, payout.amount_fen, source(payout))
    advance(session, payout)
    return payout


def _owner(payout: Payout) -> str:
    if payout.payee_kind == PayeeKind.DISTRICT_UNION and payout.payee_union_org_code:
        return accounts.union_owner(payout.payee_union_org_code)
    return accounts.member_owner(payout.member_id)


def _use(payout: Payout, account: accounts.Sealed) -> None:
    payout.account_kind = account.kind
    payout.account_cipher = account.cipher
    payout.account_masked = account.masked


def advance(session: AsyncSession, payout: Payout) -> None:
    """From a waiting state to the next one its facts allow; `ready` is instructed at once."""
    if payout.status not in (PayoutStatus.AWAITING_ACCOUNT, PayoutStatus.AWAITING_APPROVAL):
        return
    if payout.account_cipher is None:
        payout.status = PayoutStatus.AWAITING_ACCOUNT.value
    elif payout.four_eyes and payout.approved_by_client_id is None:
        payout.status = PayoutStatus.AWAITING_APPROVAL.value
    else:
        instruct(session, payout)


def instruct(session: AsyncSession, payout: Payout) -> PayoutInstruction:
    """A new instruction for the payout's whole amount, sent by a job after this commits."""
    instruction = PayoutInstruction(
        id=uuid.uuid4(),
        payout_id=payout.id,
        member_id=payout.member_id,
        amount_fen=payout.amount_fen,
        status="pending",
    )
    session.add(instruction)
    payout.current_instruction_id = instruction.id
    payout.status = PayoutStatus.READY.value
    payout.failure_reason = None
    payout.updated_at = utc_now()
    queue.enqueue(
        session,
        INSTRUCT_JOB,
        {"instruction_id": str(instruction.id)},
        max_attempts=INSTRUCT_MAX_ATTEMPTS,
    )
    return instruction


async def account_set(session: AsyncSession, owner: str, account: accounts.Sealed) -> int:
    """Payouts that waited for this owner's account take it and move on; how many did."""
    query = select(Payout).where(Payout.status == PayoutStatus.AWAITING_ACCOUNT.value)
    if owner.startswith("union:"):
        query = query.where(
            Payout.payee_kind == PayeeKind.DISTRICT_UNION.value,
            Payout.payee_union_org_code == owner.removeprefix("union:"),
        )
    else:
        query = query.where(
            Payout.payee_kind == PayeeKind.MEMBER.value,
            Payout.member_id == uuid.UUID(owner.removeprefix("member:")),
        )
    waiting = list((await session.scalars(query.with_for_update())).all())
    for payout in waiting:
        _use(payout, account)
        advance(session, payout)
        audit(session, payout, "account_set", from_status=PayoutStatus.AWAITING_ACCOUNT.value)
    return len(waiting)


async def tell_member(session: AsyncSession, payout: Payout) -> None:
    """The member hears what became of their payout's current transfer (paid, or failed or
    returned); a beneficiary's or a union's payout is not sent to the member's phone."""
    instruction_id = payout.current_instruction_id
    if payout.payee_kind != PayeeKind.MEMBER.value or instruction_id is None:
        return
    if payout.status == PayoutStatus.PAID.value and payout.paid_at is not None:
        paid_on = shanghai_date(payout.paid_at)
        notice = payout_paid(
            payout.member_id, payout.claim_id, instruction_id, payout.amount_fen, paid_on
        )
    elif payout.status in (PayoutStatus.FAILED.value, PayoutStatus.RETURNED.value):
        notice = payout_failed(payout.member_id, payout.claim_id, instruction_id)
    else:
        return
    await notify(session, [notice])
