from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from app.claims import appeals, documents, filing, review, views, withdrawal
from app.claims.models import ClaimStatus
from app.claims.schemas import (
    AppealIn,
    Benefit,
    ClaimIn,
    ClaimOut,
    ClaimsPage,
    DocumentsIn,
    QuoteOut,
    ReviewIn,
)
from app.clients.auth import Authorized
from app.core.db import ReadSessionDep, SessionDep
from app.core.deps import CipherDep, ClockDep
from app.core.openapi_docs import AUTHENTICATED, problems
from app.core.policy import Action, Caller
from app.core.schemas import Day
from app.idempotency.deps import IdempotencyWithFirstRead
from app.members.reads import ReadLogDep

router = APIRouter(prefix="/claims", tags=["claims"], responses=AUTHENTICATED)


@router.post(
    "",
    status_code=201,
    response_model=ClaimOut,
    responses=problems(404, 409),
    summary="File a claim (government app, union service centre, examiner)",
    description="201 with `status`: `approved` (with the amount) or `rejected` (with reasons) "
    "where the facts decide; `pending_documents` when required documents are missing; "
    "`pending_review` when the plan wants an examiner's judgment (disability, deaths). A claim "
    "for the same member, benefit, event and facts as a pending or approved one is "
    "`rejected` with `duplicate_claim`. 422 `invalid_facts` names facts missing or not taken "
    "by the benefit.",
)
async def file_claim(
    body: ClaimIn,
    caller: Annotated[Caller, Authorized(Action.CLAIMS_CREATE)],
    idempotency: IdempotencyWithFirstRead,
    session: SessionDep,
    cipher: CipherDep,
    clock: ClockDep,
) -> object:
    claim = await filing.file(session, cipher, caller, body, clock.today(), idempotency.first)
    return await idempotency.respond(claim, headers={"Location": f"/v1/claims/{claim.id}"})


@router.post(
    "/quote",
    response_model=QuoteOut,
    responses=problems(404),
    summary="What a claim would pay now; nothing is stored",
)
async def quote(
    body: ClaimIn,
    caller: Annotated[Caller, Authorized(Action.CLAIMS_QUOTE)],
    session: ReadSessionDep,
    clock: ClockDep,
) -> QuoteOut:
    return await filing.quote(session, caller, body, clock.today())


@router.get(
    "",
    response_model=ClaimsPage,
    summary="Claims, oldest first: the filer's own, or for examiners the queue",
    description="Examiners see every claim (`status=pending_review` is the review queue); a "
    "union sees the claims it filed; a government app client the claims it filed.",
)
async def list_claims(
    caller: Annotated[Caller, Authorized(Action.CLAIMS_READ)],
    session: SessionDep,
    reads: ReadLogDep,
    member_id: uuid.UUID | None = None,
    status: ClaimStatus | None = None,
    benefit: Benefit | None = None,
    filed_from: Day | None = None,
    filed_to: Day | None = None,
    cursor: Annotated[
        str | None, Query(max_length=128, description="`next_cursor` of the last page.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> ClaimsPage:
    shown = views.ClaimFilter(member_id, status, benefit, filed_from, filed_to)
    found = await views.page(session, caller, shown, cursor, limit)
    reads.note(caller, (c.member_id for c in found.claims), "claims.read")
    return found


@router.get(
    "/{claim_id}",
    response_model=ClaimOut,
    responses=problems(404),
    summary="A claim with its decision, payout and history",
)
async def get_claim(
    claim_id: uuid.UUID,
    caller: Annotated[Caller, Authorized(Action.CLAIMS_READ)],
    session: SessionDep,
    reads: ReadLogDep,
) -> ClaimOut:
    claim = await views.get(session, caller, claim_id)
    reads.note(caller, [claim.member_id], "claims.read")
    return claim


@router.post(
    "/{claim_id}/documents",
    response_model=ClaimOut,
    responses=problems(404, 409),
    summary="Add documents to an open claim; the last missing one moves it on",
)
async def add_documents(
    claim_id: uuid.UUID,
    body: DocumentsIn,
    caller: Annotated[Caller, Authorized(Action.CLAIMS_CREATE)],
    session: SessionDep,
    clock: ClockDep,
) -> ClaimOut:
    return await documents.add_documents(session, caller, claim_id, body.documents, clock.today())


@router.post(
    "/{claim_id}/review",
    response_model=ClaimOut,
    responses=problems(404, 409),
    summary="Approve with the judged facts, or refuse with a reason (examiner)",
    description="The engine computes the amount from the judged facts (e.g. disability "
    "grades); 409 `claim_not_pending_review` for a claim not waiting for review.",
)
async def review_claim(
    claim_id: uuid.UUID,
    body: ReviewIn,
    caller: Annotated[Caller, Authorized(Action.CLAIMS_REVIEW)],
    session: SessionDep,
    clock: ClockDep,
) -> ClaimOut:
    return await review.review(session, caller, claim_id, body, clock.today())


@router.post(
    "/{claim_id}/withdraw",
    response_model=ClaimOut,
    responses=problems(404, 409),
    summary="Withdraw a pending claim (its filer)",
    description="A claim waiting for documents or for review becomes `withdrawn`: nothing is "
    "paid or counted, and the same facts may be filed again. 409 `claim_not_pending` once "
    "it is decided, withdrawn or expired.",
)
async def withdraw_claim(
    claim_id: uuid.UUID,
    caller: Annotated[Caller, Authorized(Action.CLAIMS_WITHDRAW)],
    session: SessionDep,
) -> ClaimOut:
    return await withdrawal.withdraw(session, caller, claim_id)


@router.post(
    "/{claim_id}/appeal",
    response_model=ClaimOut,
    responses=problems(404, 409),
    summary="Appeal a refusal, once (its filer)",
    description="Within the plan's `claims.appeal_days` of the refusal the claim goes back to "
    "`pending_review` for an examiner, with the refusal under `appeal.first_decision`; the "
    "examiner's decision (`POST /v1/claims/{id}/review`) is final. 409 `claim_not_rejected`, "
    "`appeal_used`, `appeal_window_closed`, or `duplicate_claim` when the same facts were "
    "filed again and are pending or approved.",
)
async def appeal_claim(
    claim_id: uuid.UUID,
    body: AppealIn,
    caller: Annotated[Caller, Authorized(Action.CLAIMS_APPEAL)],
    session: SessionDep,
    clock: ClockDep,
) -> ClaimOut:
    return await appeals.appeal(session, caller, claim_id, body, clock.now(), clock.today())
