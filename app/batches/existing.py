"""What the database already holds about a chunk's people and platform accounts.

Read only for rows the platforms have verified, inside the chunk's write transaction: what the
service holds about a person is never the answer to a row nobody has verified, so a batch is
no oracle of who is enrolled. The share check is the one individual enrolment makes
(`app.enrolment.shares`). A member's row renews their latest period, so it must start while the
batch's plan version is in force.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app import plans
from app.batches.models import RowOutcome
from app.batches.outcomes import RowResult
from app.batches.screening import Candidate
from app.core.bulk import among
from app.enrolment.shares import Share, shares_of
from app.members.models import Member, PlatformWorker
from app.rules.coverage import period_for_payment
from app.rules.eligibility import check_first_day_age
from app.rules.plan import Plan


@dataclass
class Existing:
    plan: Plan
    applied_on: date
    members: dict[str, Member] = field(default_factory=dict)  # by ID-number hash
    shares: dict[uuid.UUID, Share] = field(default_factory=dict)
    account_owners: dict[tuple[str, str], uuid.UUID] = field(default_factory=dict)

    def refusal(self, candidate: Candidate, id_hash: str, union: str) -> RowResult | None:
        """`member_deceased` for a member whose death is recorded, `duplicate` for a person
        holding a share (with their member id only for the union's own member),
        `plan_not_in_force` for a renewal outside the batch's version, `age_limit` for one
        starting on or after the 60th birthday, `platform_worker_taken` for another member's
        platform account."""
        member = self.members.get(id_hash)
        if member is not None and member.died_on is not None:
            return RowResult.rejected(candidate.row_number, candidate.ref, ["member_deceased"])
        if member is not None and self.shares[member.id].blocker:
            return RowResult(
                candidate.row_number,
                candidate.ref,
                RowOutcome.DUPLICATE,
                ["already_enrolled"],
                member_id=member.id if member.union_org_code == union else None,
            )
        renewal = self._renewal_refusal(candidate, member) if member is not None else None
        if renewal is not None:
            return RowResult.rejected(candidate.row_number, candidate.ref, [renewal])
        owner = self.account_owners.get((candidate.platform_code, candidate.platform_worker_id))
        if owner is not None and (member is None or owner != member.id):
            return RowResult.rejected(
                candidate.row_number, candidate.ref, ["platform_worker_taken"]
            )
        return None

    def _renewal_refusal(self, candidate: Candidate, member: Member) -> str | None:
        """Why the member's renewal, paid on the batch's date, cannot be sold with the batch:
        it would start under another version than the batch's (the one a new member's cover
        starts under), or on or after the member's 60th birthday."""
        latest = self.shares[member.id].latest
        chosen = plans.book().for_payment_on(self.plan.code, self.applied_on, latest)
        if chosen is None or chosen.version != self.plan.version:
            return "plan_not_in_force"
        renewal = period_for_payment(self.plan, self.applied_on, latest)
        if renewal.continues_previous and check_first_day_age(
            self.plan, candidate.id_number, renewal.starts_on
        ):
            return "age_limit"
        return None

    def stale_applications(self, member_id: uuid.UUID) -> list[uuid.UUID]:
        return self.shares[member_id].stale_applications


async def existing_of(
    session: AsyncSession,
    plan: Plan,
    candidates: Iterable[Candidate],
    hashes: dict[int, str],
    today: date,
) -> Existing:
    candidates = list(candidates)
    found = Existing(plan, today)
    if not candidates:
        return found
    dialect = (await session.connection()).dialect
    people = [hashes[c.row_number] for c in candidates]
    rows = await session.scalars(
        select(Member).where(among(Member.id_number_hash, people, dialect))
    )
    found.members = {m.id_number_hash: m for m in rows}
    found.shares = await shares_of(session, plan, [m.id for m in found.members.values()], today)
    accounts = {(c.platform_code, c.platform_worker_id) for c in candidates}
    # The accounts' worker ids on their platforms (a chunk's rows name few platforms): a few
    # more rows than asked for at most, the exact pairs kept.
    links = await session.execute(
        select(
            PlatformWorker.platform_code,
            PlatformWorker.platform_worker_id,
            PlatformWorker.member_id,
        ).where(
            among(PlatformWorker.platform_worker_id, {w for _, w in accounts}, dialect),
            among(PlatformWorker.platform_code, {p for p, _ in accounts}, dialect),
        )
    )
    for code, worker_id, member_id in links:
        if (code, worker_id) in accounts:
            found.account_owners[(code, worker_id)] = member_id
    return found
