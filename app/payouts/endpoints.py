"""Payouts over HTTP: the finance office's queue and actions, a member's payout account, and the
gateway's signed payout notifications."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request

from app.clients.auth import Authorized
from app.core import inbox, signing
from app.core.db import ReadSessionDep, SessionDep
from app.core.deps import CipherDep, ClockDep
from app.core.openapi_docs import AUTHENTICATED, SIGNED, problems, signed_json_body
from app.core.policy import Action, Caller
from app.members.models import Member
from app.members.reads import ReadLogDep
from app.members.service import visible_member
from app.payouts import notifications as payout_notifications
from app.payouts import service
from app.payouts.accounts import PayeeAccountIn
from app.payouts.models import PayoutStatus
from app.payouts.schemas import (
    PayoutAccountOut,
    PayoutDetail,
    PayoutNotificationIn,
    PayoutNotificationOut,
    PayoutPage,
    ReissueIn,
)

router = APIRouter(tags=["payouts"], responses=AUTHENTICATED)
notifications = APIRouter(tags=["payouts"])


@router.get(
    "/payouts",
    response_model=PayoutPage,
    responses=problems(400),
    summary="Payouts, oldest first, by status (finance, examiner)",
)
async def list_payouts(
    caller: Annotated[Caller, Authorized(Action.PAYOUTS_READ)],
    session: ReadSessionDep,
    reads: ReadLogDep,
    status: PayoutStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> PayoutPage:
    page = await service.listing(session, status, limit, cursor)
    reads.note(caller, (p.member_id for p in page.items), "payouts.read")
    return page


@router.get(
    "/payouts/{payout_id}",
    response_model=PayoutDetail,
    responses=problems(404),
    summary="One payout (finance, examiner)",
)
async def get_payout(
    payout_id: uuid.UUID,
    caller: Annotated[Caller, Authorized(Action.PAYOUTS_READ)],
    session: ReadSessionDep,
    reads: ReadLogDep,
) -> PayoutDetail:
    payout = await service.get(session, payout_id)
    reads.note(caller, [payout.member_id], "payouts.read")
    return payout


@router.post(
    "/payouts/{payout_id}/approve",
    response_model=PayoutDetail,
    responses=problems(404, 409),
    summary="Second approval of a payout at or above the plan's `four_eyes_from_fen`",
    description="Refused with 409 `same_approver` when the approving client decided the claim.",
)
async def approve_payout(
    payout_id: uuid.UUID,
    caller: Annotated[Caller, Authorized(Action.PAYOUTS_APPROVE)],
    session: SessionDep,
) -> PayoutDetail:
    return await service.approve(session, caller, payout_id)


@router.post(
    "/payouts/{payout_id}/reissue",
    response_model=PayoutDetail,
    responses=problems(404, 409),
    summary="A new transfer for a failed or returned payout, to a corrected account if given",
)
async def reissue_payout(
    payout_id: uuid.UUID,
    body: ReissueIn,
    caller: Annotated[Caller, Authorized(Action.PAYOUTS_REISSUE)],
    session: SessionDep,
    cipher: CipherDep,
) -> PayoutDetail:
    return await service.reissue(session, cipher, caller, payout_id, body)


@router.put(
    "/members/{member_id}/payout-account",
    response_model=PayoutAccountOut,
    responses=problems(404),
    summary="The account a member's payouts go to (government app; a union for its members)",
    description="Stored encrypted, answered masked. Payouts waiting for an account move on.",
)
async def set_payout_account(
    member_id: uuid.UUID,
    body: PayeeAccountIn,
    caller: Annotated[Caller, Authorized(Action.PAYOUT_ACCOUNTS_SET)],
    session: SessionDep,
    cipher: CipherDep,
) -> PayoutAccountOut:
    visible_member(caller, await session.get(Member, member_id))
    return await service.set_member_account(session, cipher, caller, member_id, body)


@notifications.post(
    "/payout-notifications",
    response_model=PayoutNotificationOut,
    responses=SIGNED,
    summary="The gateway tells us a transfer was paid, failed, or came back (HMAC-signed)",
    description="Signed like `/v1/payment-notifications`. A repeated `event_id` changes nothing; "
    "a wrong amount is recorded and answered 422 `amount_mismatch`, a `paid_at` before the "
    "cover began or after tomorrow (Shanghai) 422 `paid_at_out_of_range`; word about an "
    "instruction that was since replaced is recorded as `not_current`.",
    openapi_extra=signed_json_body(PayoutNotificationIn),
)
async def payout_notification(request: Request, session: SessionDep, clock: ClockDep) -> object:
    body = await signing.signed_body(request, PayoutNotificationIn)
    result = await payout_notifications.apply_notification(session, clock, body)
    return inbox.answer(result, payout_notifications.REFUSED, "Payout")
