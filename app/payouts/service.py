"""The finance office's use cases: list and read payouts, give the second approval, reissue a
failed or returned payout; and setting a member's payout account."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import utc_now
from app.core.crypto import PersonalDataCipher
from app.core.cursors import oldest_first
from app.core.errors import Conflict, NotFound, Unprocessable
from app.core.policy import Caller
from app.payouts import accounts, lifecycle
from app.payouts.models import Payout, PayoutStatus
from app.payouts.schemas import PayoutAccountOut, PayoutDetail, PayoutPage, ReissueIn

REISSUABLE = (PayoutStatus.FAILED.value, PayoutStatus.RETURNED.value)
WAITING = (PayoutStatus.AWAITING_ACCOUNT.value, PayoutStatus.AWAITING_APPROVAL.value)


def payout_out(payout: Payout) -> PayoutDetail:
    return PayoutDetail(
        id=payout.id,
        claim_id=payout.claim_id,
        member_id=payout.member_id,
        benefit=payout.benefit,
        amount_fen=payout.amount_fen,
        payee_kind=payout.payee_kind,
        payee_union_org_code=payout.payee_union_org_code,
        account_masked=payout.account_masked,
        status=payout.status,
        needs_second_approval=payout.four_eyes,
        approved_at=payout.approved_at,
        failure_reason=payout.failure_reason,
        paid_at=payout.paid_at,
        created_at=payout.created_at,
    )


async def listing(
    session: AsyncSession, status: PayoutStatus | None, limit: int, cursor: str | None
) -> PayoutPage:
    """Payouts oldest first (the finance office's work queue), a page at a time."""
    conditions = [] if status is None else [Payout.status == status.value]
    rows, next_cursor = await oldest_first(session, Payout, limit, cursor, *conditions)
    return PayoutPage(items=[payout_out(p) for p in rows], next_cursor=next_cursor)


async def _locked(session: AsyncSession, payout_id: uuid.UUID) -> Payout:
    payout = await session.get(Payout, payout_id, with_for_update=True, populate_existing=True)
    if payout is None:
        raise NotFound("payout not found", code="payout_not_found")
    return payout


async def get(session: AsyncSession, payout_id: uuid.UUID) -> PayoutDetail:
    payout = await session.get(Payout, payout_id)
    if payout is None:
        raise NotFound("payout not found", code="payout_not_found")
    return payout_out(payout)


async def approve(session: AsyncSession, caller: Caller, payout_id: uuid.UUID) -> PayoutDetail:
    """The second approval of a large payout, by anyone but the client that decided it."""
    payout = await _locked(session, payout_id)
    if not payout.four_eyes:
        raise Conflict("this payout needs no second approval", code="approval_not_needed")
    if payout.approved_by_client_id is not None or payout.status not in WAITING:
        raise Conflict("this payout is already approved", code="already_approved")
    if payout.decided_by_client_id == caller.client_id:
        raise Conflict(
            "the client that decided the claim cannot also approve its payout",
            code="same_approver",
        )
    before = payout.status
    payout.approved_by_client_id = caller.client_id
    payout.approved_at = utc_now()
    lifecycle.advance(session, payout)
    lifecycle.audit(session, payout, "approved", client_id=caller.client_id, from_status=before)
    return payout_out(payout)


async def reissue(
    session: AsyncSession,
    cipher: PersonalDataCipher,
    caller: Caller,
    payout_id: uuid.UUID,
    body: ReissueIn,
) -> PayoutDetail:
    """A new instruction for a failed or returned payout, to a corrected account if given."""
    payout = await _locked(session, payout_id)
    if payout.status not in REISSUABLE:
        raise Conflict(f"a {payout.status} payout cannot be reissued", code="payout_not_reissuable")
    if body.payee_account is not None:
        sealed = accounts.seal(cipher, body.payee_account)
        payout.account_kind, payout.account_cipher = sealed.kind, sealed.cipher
        payout.account_masked = sealed.masked
    if payout.account_cipher is None:
        raise Unprocessable("give the account to pay into", code="payee_account_required")
    before = payout.status
    lifecycle.instruct(session, payout)
    lifecycle.audit(session, payout, "reissued", client_id=caller.client_id, from_status=before)
    return payout_out(payout)


async def set_member_account(
    session: AsyncSession,
    cipher: PersonalDataCipher,
    caller: Caller,
    member_id: uuid.UUID,
    account: accounts.PayeeAccountIn,
) -> PayoutAccountOut:
    """The member's account on file; payouts that waited for it move on."""
    sealed = accounts.seal(cipher, account)
    owner = accounts.member_owner(member_id)
    await accounts.store(session, owner, sealed, caller.client_id)
    released = await lifecycle.account_set(session, owner, sealed)
    return PayoutAccountOut(
        member_id=member_id, account_masked=sealed.masked, payouts_released=released
    )
