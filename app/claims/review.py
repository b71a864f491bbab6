"""Examiners' decisions on claims that need judgment (disability grades, deaths).

The examiner approves with the facts as judged, and the engine computes the amount from them;
an examiner never types an amount. Or the examiner refuses, with a reason.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from app.claims import facts as claim_facts
from app.claims.decisions import decide_claim, member_state, refusal, refused_on_cover, settle
from app.claims.models import ClaimStatus, DecidedBy
from app.claims.schemas import ClaimOut, ReviewIn
from app.claims.service import locked_claim, stored_body
from app.claims.views import claim_out
from app.core.errors import Conflict, Unprocessable
from app.core.policy import Caller
from app.members.models import Member
from app.rules.decision import ReasonCode
from app.rules.facts import DeathFacts


async def review(
    session: AsyncSession, caller: Caller, claim_id: uuid.UUID, body: ReviewIn, today: date
) -> ClaimOut:
    claim = await locked_claim(session, caller, claim_id)
    if claim.status != ClaimStatus.PENDING_REVIEW:
        raise Conflict(
            f"only claims pending review can be reviewed; this one is {claim.status}",
            code="claim_not_pending_review",
        )
    member = await session.get(Member, claim.member_id)
    assert member is not None
    filed = stored_body(claim)
    state = await member_state(
        session, member, claim_facts.rules_claim(filed, filed.facts, claim.filed_on, today)
    )
    plan = state.plan_for(claim.event_occurred_on)
    death_on: date | None = None
    if body.decision == "reject":
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
        decision = refusal(plan, claim.benefit, ReasonCode.REJECTED_ON_REVIEW, body.reason)
        judged = claim.facts
    else:
        judged_facts = body.facts or filed.facts
        rules_claim = claim_facts.rules_claim(filed, judged_facts, claim.filed_on, today)
        decision = decide_claim(plan, rules_claim, state)
        judged = claim_facts.stored(judged_facts)
        if isinstance(rules_claim.facts, DeathFacts) and not refused_on_cover(decision):
            death_on = rules_claim.facts.died_on
    await settle(
        session,
        plan,
        state,
        claim,
        decision,
        judged,
        caller=caller,
        decided_by=DecidedBy.EXAMINER,
        from_status=claim.status,
        note=body.reason,
        death_on=death_on,
    )
    await session.flush()
    return await claim_out(session, claim)
