"""Documents for an open claim: the last missing one moves it on, decided by the engine where
the facts decide, or to an examiner's review. Load, decide, record, as filing does."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from app.claims import context, recording
from app.claims.models import PENDING, ClaimStatus, DecidedBy
from app.claims.schemas import ClaimOut, DocumentIn
from app.claims.views import claim_out
from app.core import writes
from app.core.errors import Conflict
from app.core.policy import Caller
from app.rules.assessment import assess


async def add_documents(
    session: AsyncSession, caller: Caller, claim_id: uuid.UUID, given: list[DocumentIn], today: date
) -> ClaimOut:
    claim = await context.lock_claim(session, caller, claim_id)
    if claim.status not in PENDING:
        raise Conflict(f"the claim is already {claim.status}", code="claim_decided")
    held = await context.documents_of(session, claim)
    loaded, outlook = None, None
    if claim.status == ClaimStatus.PENDING_DOCUMENTS:
        types = {t for t, _ in held} | {d.type for d in given}
        loaded = await context.for_stored(session, claim, types, today)
        outlook = assess(
            loaded.plan, loaded.facts, loaded.cover, loaded.usage.by_start, loaded.on_record
        )
    from_status = await recording.record_documents(session, claim, given, held, outlook, caller)
    if loaded is not None and outlook is not None and outlook.final:
        verdict = recording.Verdict(outlook.decision, claim.facts, DecidedBy.ENGINE, today)
        await recording.record_decision(session, loaded, claim, verdict, caller, from_status)
    await writes.flush(session)
    return await claim_out(session, claim)
