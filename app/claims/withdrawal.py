"""A filer takes back a claim that is still waiting (for documents or for an examiner).

Nothing was decided, so nothing is paid or counted against a cap; the claim stays on record as
`withdrawn` with its history, and the same facts can be filed again later."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.claims import context, recording
from app.claims.models import PENDING, ClaimStatus
from app.claims.schemas import ClaimOut
from app.claims.views import claim_out
from app.core.errors import Conflict
from app.core.policy import Caller


async def withdraw(session: AsyncSession, caller: Caller, claim_id: uuid.UUID) -> ClaimOut:
    claim = await context.lock_filed_claim(session, caller, claim_id)
    if claim.status not in PENDING:
        raise Conflict(
            f"only a pending claim can be withdrawn; this one is {claim.status}",
            code="claim_not_pending",
        )
    recording.record_step(session, claim, "withdrawn", ClaimStatus.WITHDRAWN, caller)
    await session.flush()
    return await claim_out(session, claim)
