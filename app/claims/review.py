"""Examiners' decisions on claims that need judgment (disability grades, deaths).

The examiner approves with the facts as judged, and the engine computes the amount from them;
an examiner never types an amount. Or the examiner refuses, with a reason. Load, decide, record.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from app.claims import context, recording
from app.claims import facts as claim_facts
from app.claims.context import ClaimContext
from app.claims.models import Claim, ClaimStatus, DecidedBy
from app.claims.schemas import ClaimOut, ReviewIn
from app.claims.views import claim_out
from app.core import writes
from app.core.errors import Conflict, Unprocessable
from app.core.policy import Caller
from app.rules.assessment import decide_on_record, refusal, refused_on_cover
from app.rules.decision import ReasonCode
from app.rules.facts import DeathFacts


async def review(
    session: AsyncSession, caller: Caller, claim_id: uuid.UUID, body: ReviewIn, today: date
) -> ClaimOut:
    claim = await context.lock_claim(session, caller, claim_id)
    if claim.status != ClaimStatus.PENDING_REVIEW:
        raise Conflict(
            f"only claims pending review can be reviewed; this one is {claim.status}",
            code="claim_not_pending_review",
        )
    loaded = await context.for_stored(session, claim, set(), today)
    verdict = (
        _refuse(loaded, claim, body, today)
        if body.decision == "reject"
        else _approve(loaded, claim, body, today)
    )
    await recording.record_decision(session, loaded, claim, verdict, caller, claim.status)
    await writes.flush(session)
    return await claim_out(session, claim)


def _refuse(loaded: ClaimContext, claim: Claim, body: ReviewIn, today: date) -> recording.Verdict:
    if body.reason is None:
        raise Unprocessable(
            "a refusal needs a reason",
            code="reason_required",
            errors=[
                {
                    "code": "missing",
                    "field": "reason",
                    "location": "body",
                    "message": "a refusal needs a reason",
                }
            ],
        )
    decision = refusal(loaded.plan, claim.benefit, ReasonCode.REJECTED_ON_REVIEW, body.reason)
    return recording.Verdict(decision, claim.facts, DecidedBy.EXAMINER, today, note=body.reason)


def _approve(loaded: ClaimContext, claim: Claim, body: ReviewIn, today: date) -> recording.Verdict:
    """The engine's decision on the facts as the examiner judged them (default: as filed)."""
    filed = context.stored_body(claim)
    judged = body.facts or filed.facts
    facts = claim_facts.rules_claim(filed, judged, claim.filed_on, today)
    decision = decide_on_record(loaded.plan, facts, loaded.cover, loaded.usage.by_start)
    death_on = None
    if isinstance(facts.facts, DeathFacts) and not refused_on_cover(decision):
        death_on = facts.facts.died_on  # accepted, even if nothing is left to pay
    return recording.Verdict(
        decision, claim_facts.stored(judged), DecidedBy.EXAMINER, today, body.reason, death_on
    )
