"""A filer's one appeal of a refusal: the claim goes back to the examiners' queue
(`pending_review`) with the refusal attached, and the examiner's decision on it is the claim's
decision on appeal (`app.claims.review`), paid and counted against the caps like any other.

Only the filer appeals, once, within the plan's `appeal_days` of the refusal (Shanghai days,
by the service's clock). The appealed claim takes back its place among open claims: if the same
facts were filed again meanwhile and are pending or approved, the appeal is refused as a
duplicate instead.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.claims import context, recording
from app.claims.models import FIRST_DECISION, Claim, ClaimDecision, ClaimStatus
from app.claims.schemas import AppealIn, ClaimOut
from app.claims.views import claim_out, plan_of
from app.core.clock import shanghai_date
from app.core.errors import Conflict
from app.core.policy import Caller


async def appeal(
    session: AsyncSession,
    caller: Caller,
    claim_id: uuid.UUID,
    body: AppealIn,
    now: datetime,
    today: date,
) -> ClaimOut:
    claim = await context.lock_filed_claim(session, caller, claim_id)
    if claim.appealed_at is not None:
        raise Conflict("a claim can be appealed once", code="appeal_used")
    if claim.status != ClaimStatus.REJECTED:
        raise Conflict(
            f"only a refused claim can be appealed; this one is {claim.status}",
            code="claim_not_rejected",
        )
    refusal = await _first_decision(session, claim)
    decided_on = refusal.decided_on or shanghai_date(refusal.created_at)
    last_day = decided_on + timedelta(days=plan_of(claim).claims.appeal_days.value)
    if today > last_day:
        raise Conflict(
            f"the refusal of {decided_on} could be appealed until {last_day}",
            code="appeal_window_closed",
        )
    key = context.dedup_key(context.stored_body(claim))
    if await context.holds_key(session, key):
        raise Conflict(
            "a pending or approved claim has this member, benefit, event and facts",
            code="duplicate_claim",
        )
    claim.appealed_at = now
    claim.appeal_grounds = body.grounds
    recording.record_step(
        session,
        claim,
        "appealed",
        ClaimStatus.PENDING_REVIEW,
        caller,
        {"refusal_reasons": [r["code"] for r in refusal.reasons]},
    )
    claim.dedup_key = key
    await session.flush()
    return await claim_out(session, claim)


async def _first_decision(session: AsyncSession, claim: Claim) -> ClaimDecision:
    refusal = await session.scalar(
        select(ClaimDecision).where(
            ClaimDecision.claim_id == claim.id, ClaimDecision.round == FIRST_DECISION
        )
    )
    assert refusal is not None, "a refused claim has its decision"
    return refusal
