"""May this person enrol again? One answer for every way in: the government app and union batches.

One share per member per period (design section 4): an application still open, or cover that
is not yet renewable, blocks a new one (`app.rules.coverage.share_blocker`). An open application
left unpaid past the plan's validity no longer blocks; it is expired when the new one is stored.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import Change, record
from app.coverage.models import CoveragePeriodRecord
from app.enrolment.models import OPEN_STATUSES, Enrolment, EnrolmentStatus
from app.rules.coverage import CoveragePeriod, application_expired, share_blocker
from app.rules.plan import Plan


@dataclass(frozen=True)
class Share:
    """A member's standing for a new application."""

    # Why the member may not enrol again now; None when they may.
    blocker: str | None = None
    # Open applications left unpaid past the plan's validity, to expire with the new one.
    stale_applications: list[uuid.UUID] = field(default_factory=list)
    # The member's period that ends last: a new application renews it.
    latest: CoveragePeriod | None = None


async def shares_of(
    session: AsyncSession, plan: Plan, member_ids: Collection[uuid.UUID], today: date
) -> dict[uuid.UUID, Share]:
    """Each member's standing `today`, in two queries whatever their number."""
    if not member_ids:
        return {}
    applications: dict[uuid.UUID, list[tuple[uuid.UUID, date]]] = {m: [] for m in member_ids}
    for enrolment_id, member_id, applied_on in await session.execute(
        select(Enrolment.id, Enrolment.member_id, Enrolment.applied_on).where(
            Enrolment.member_id.in_(member_ids), Enrolment.status.in_(OPEN_STATUSES)
        )
    ):
        applications[member_id].append((enrolment_id, applied_on))
    periods: dict[uuid.UUID, list[CoveragePeriod]] = {m: [] for m in member_ids}
    for period in await session.scalars(
        select(CoveragePeriodRecord).where(CoveragePeriodRecord.member_id.in_(member_ids))
    ):
        periods[period.member_id].append(
            CoveragePeriod(period.starts_on, period.ends_on, period.continues_previous)
        )
    return {
        member_id: Share(
            share_blocker(plan, [a for _, a in open_], periods[member_id], today),
            [e for e, a in open_ if application_expired(plan, a, today)],
            max(periods[member_id], key=lambda p: p.ends_on, default=None),
        )
        for member_id, open_ in applications.items()
    }


async def share_of(session: AsyncSession, plan: Plan, member_id: uuid.UUID, today: date) -> Share:
    return (await shares_of(session, plan, [member_id], today))[member_id]


async def latest_period(session: AsyncSession, member_id: uuid.UUID) -> CoveragePeriod | None:
    """The member's period that ends last (a new application renews it), or None."""
    row = (
        await session.scalars(
            select(CoveragePeriodRecord)
            .where(CoveragePeriodRecord.member_id == member_id)
            .order_by(CoveragePeriodRecord.ends_on.desc())
            .limit(1)
        )
    ).first()
    return (
        None if row is None else CoveragePeriod(row.starts_on, row.ends_on, row.continues_previous)
    )


async def expire_applications(
    session: AsyncSession,
    enrolment_ids: list[uuid.UUID],
    client_id: uuid.UUID | None,
    details: dict[str, str] | None = None,
) -> list[uuid.UUID]:
    """Mark these applications expired if they are still open, with an audit event each; the
    ones that were not open (just paid, say) are left as they are. Returns those expired."""
    if not enrolment_ids:
        return []
    expired = list(
        (
            await session.scalars(
                update(Enrolment)
                .where(Enrolment.id.in_(sorted(enrolment_ids)), Enrolment.status.in_(OPEN_STATUSES))
                .values(status=EnrolmentStatus.EXPIRED.value)
                .returning(Enrolment.id)
                .execution_options(synchronize_session=False)
            )
        ).all()
    )
    for enrolment_id in expired:
        record(
            session,
            Change(
                entity="enrolment",
                entity_id=enrolment_id,
                action="expired",
                client_id=client_id,
                to_status=EnrolmentStatus.EXPIRED.value,
                details=details,
            ),
        )
    return expired
