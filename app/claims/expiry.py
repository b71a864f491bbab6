"""Claims left waiting for documents past the plan's `documents_due_days` expire.

A periodic task of the job workers: it takes the oldest waiting claims a batch at a time (rows
another transaction holds are skipped, to be seen next time) and marks the overdue ones
`expired` with their history. Nothing was decided: nothing is paid or counted, and the same facts
can be filed again.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.claims import recording
from app.claims.models import Claim, ClaimStatus
from app.claims.views import plan_of
from app.core.runtime import Runtime

BATCH = 200


async def expire_overdue_claims(runtime: Runtime) -> int:
    """Expire every overdue claim; how many."""
    today = runtime.clock.today()
    expired = 0
    while True:
        async with runtime.db.writer() as session:
            waiting = (
                await session.scalars(
                    select(Claim)
                    .where(
                        Claim.status == ClaimStatus.PENDING_DOCUMENTS.value,
                        Claim.filed_on < today,
                    )
                    .order_by(Claim.filed_on, Claim.id)
                    .limit(BATCH)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            overdue = [
                claim
                for claim in waiting
                if today
                > claim.filed_on + timedelta(days=plan_of(claim).claims.documents_due_days.value)
            ]
            for claim in overdue:
                recording.record_step(
                    session,
                    claim,
                    "expired",
                    ClaimStatus.EXPIRED,
                    None,
                    {"filed_on": claim.filed_on.isoformat()},
                )
            await session.commit()
        expired += len(overdue)
        if len(overdue) < BATCH:
            return expired
