"""Load: everything a claim's decision reads, read once in the request's transaction.

The member, their periods and usage (only what this claim needs), the plan of the period the
event falls in, and what the records say (documents given, a duplicate, the event as other
claims gave it). Every path that may decide (filing, documents, review) locks the member's row
first, then the claim's, so one member's decisions are taken one at a time and the usage read
here is the usage the record step changes (`app.coverage.usage.consume` re-checks it).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.claims import facts as claim_facts
from app.claims.models import Claim, ClaimDecision, ClaimDocument, ClaimStatus
from app.claims.schemas import ClaimIn
from app.claims.views import visible_claim
from app.core.errors import NotFound
from app.core.policy import Caller, Role
from app.coverage.models import CoveragePeriodRecord
from app.coverage.usage import MemberUsage
from app.coverage.usage import load as load_usage
from app.coverage.versions import plan_on
from app.members.models import Member
from app.members.service import visible_member
from app.plans import DEFAULT_PLAN_CODE
from app.rules.assessment import OnRecord
from app.rules.coverage import CoveragePeriod, MemberCover
from app.rules.decision import ReasonCode
from app.rules.facts import ClaimFacts, HospitalStay
from app.rules.plan import Plan
from app.rules.vocabulary import CRITICAL_ILLNESS_MEDICAL, HOSPITAL_ALLOWANCE

# The benefits paid on a hospital stay.
STAY_BENEFITS = (HOSPITAL_ALLOWANCE, CRITICAL_ILLNESS_MEDICAL)


@dataclass(frozen=True)
class ClaimContext:
    """A claim's facts with the member's cover, usage and records, as the rules core takes
    them. A value: the stops after loading read its fields and call nothing back here."""

    facts: ClaimFacts
    member: Member
    cover: MemberCover
    # Each period's id by its first day: a decision names its period by that day.
    period_ids: dict[date, uuid.UUID]
    usage: MemberUsage
    on_record: OnRecord
    plan: Plan
    # The key a new claim holds while pending or approved (see `dedup_key`).
    dedup_key: str | None = None


def dedup_key(body: ClaimIn) -> str:
    """Same member, benefit, event and facts: the same claim, whoever filed it and under
    whatever reference. Only a benefit without facts of its own (the condolence) is told apart
    by the event's reference: two accidents can happen on one day."""
    event = body.event.model_dump(mode="json", exclude=set() if body.facts_free else {"ref"})
    canonical = json.dumps(
        [str(body.member_id), body.benefit, event, claim_facts.stored(body.facts)],
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


async def for_filing(
    session: AsyncSession, caller: Caller, body: ClaimIn, facts: ClaimFacts
) -> ClaimContext:
    """A new claim's context, the member row-locked for this transaction."""
    member = visible_member(
        caller,
        (
            await session.scalars(
                select(Member).where(Member.id == body.member_id).with_for_update()
            )
        ).first(),
    )
    key = dedup_key(body)
    on_record = OnRecord(
        documents=frozenset(d.type for d in body.documents),
        duplicate=await holds_key(session, key),
        event=await _event_on_record(session, body),
    )
    return await _load(session, member, facts, on_record, key)


async def for_quote(
    session: AsyncSession, caller: Caller, body: ClaimIn, facts: ClaimFacts
) -> ClaimContext:
    """What filing would read, without locking anything: a quote stores nothing."""
    member = visible_member(caller, await session.get(Member, body.member_id))
    on_record = OnRecord(
        documents=frozenset(d.type for d in body.documents),
        duplicate=await holds_key(session, dedup_key(body)),
    )
    return await _load(session, member, facts, on_record)


async def lock_claim(session: AsyncSession, caller: Caller, claim_id: uuid.UUID) -> Claim:
    """A filed claim, its member row-locked first, then the claim (the order every deciding
    path takes)."""
    found = visible_claim(caller, await session.get(Claim, claim_id))
    await session.scalars(select(Member.id).where(Member.id == found.member_id).with_for_update())
    claim = await session.get(Claim, claim_id, populate_existing=True, with_for_update=True)
    assert claim is not None
    return claim


async def lock_filed_claim(session: AsyncSession, caller: Caller, claim_id: uuid.UUID) -> Claim:
    """`lock_claim` for the filer's own steps (withdraw, appeal): an examiner sees every claim
    but acts as a filer only on the claims it filed."""
    claim = await lock_claim(session, caller, claim_id)
    if caller.role is Role.EXAMINER and claim.filed_by_client_id != caller.client_id:
        raise NotFound("claim not found", code="claim_not_found")
    return claim


async def documents_of(session: AsyncSession, claim: Claim) -> set[tuple[str, str]]:
    """(type, ref) of every document the claim holds."""
    rows = await session.execute(
        select(ClaimDocument.type, ClaimDocument.ref).where(ClaimDocument.claim_id == claim.id)
    )
    return {(t, r) for t, r in rows}


async def for_stored(
    session: AsyncSession, claim: Claim, documents: set[str], today: date
) -> ClaimContext:
    """A filed claim's context (`lock_claim` first): its facts as filed, and the document
    types it holds now."""
    member = await session.get(Member, claim.member_id)
    assert member is not None
    filed = stored_body(claim)
    facts = claim_facts.rules_claim(filed, filed.facts, claim.filed_on, today)
    return await _load(session, member, facts, OnRecord(documents=frozenset(documents)))


def stored_body(claim: Claim) -> ClaimIn:
    """The claim as filed, in the API's terms, to decide it again."""
    return ClaimIn.model_validate(
        {
            "member_id": claim.member_id,
            "benefit": claim.benefit,
            "event": {
                "kind": claim.event_kind,
                "occurred_on": claim.event_occurred_on,
                "ref": claim.event_ref,
            },
            "facts": claim.facts,
        }
    )


async def _load(
    session: AsyncSession,
    member: Member,
    facts: ClaimFacts,
    on_record: OnRecord,
    key: str | None = None,
) -> ClaimContext:
    periods = list(
        (
            await session.scalars(
                select(CoveragePeriodRecord)
                .where(CoveragePeriodRecord.member_id == member.id)
                .order_by(CoveragePeriodRecord.starts_on)
            )
        ).all()
    )
    usage = await load_usage(
        session,
        member.id,
        {p.id: p.starts_on for p in periods},
        event_ref=facts.event.ref,
        hospital_days=facts.benefit == HOSPITAL_ALLOWANCE,
    )
    cover = MemberCover(
        tuple(CoveragePeriod(p.starts_on, p.ends_on, p.continues_previous) for p in periods),
        member.died_on,
    )
    if isinstance(facts.facts, HospitalStay) and await _stay_refused_for_waiting(
        session, member.id, facts.facts.admitted_on
    ):
        on_record = replace(on_record, stay_refused_for_waiting=True)
    return ClaimContext(
        facts=facts,
        member=member,
        cover=cover,
        period_ids={p.starts_on: p.id for p in periods},
        usage=usage,
        on_record=on_record,
        plan=_plan_on(periods, facts.event.occurred_on),
        dedup_key=key,
    )


def _plan_on(periods: list[CoveragePeriodRecord], day: date) -> Plan:
    """The plan version of the period `day` falls in (a period keeps the version it was bought
    under); else of the latest period; else the default plan's version of that day."""
    return plan_on(periods, day, DEFAULT_PLAN_CODE)


async def _stay_refused_for_waiting(
    session: AsyncSession, member_id: uuid.UUID, admitted_on: date
) -> bool:
    """Whether a claim of the member for a stay admitted that day (any benefit paid on hospital
    stays) was refused for the waiting period."""
    rows = await session.execute(
        select(Claim, ClaimDecision)
        .join(ClaimDecision, ClaimDecision.claim_id == Claim.id)
        .where(
            Claim.member_id == member_id,
            Claim.benefit.in_(STAY_BENEFITS),
            Claim.status == ClaimStatus.REJECTED.value,
        )
    )
    return any(
        claim.facts.get("admitted_on") == admitted_on.isoformat()
        and any(r.get("code") == ReasonCode.WAITING_PERIOD.value for r in decision.reasons)
        for claim, decision in rows
    )


async def holds_key(session: AsyncSession, key: str) -> bool:
    return (
        await session.scalars(select(Claim.id).where(Claim.dedup_key == key))
    ).first() is not None


async def _event_on_record(session: AsyncSession, body: ClaimIn) -> tuple[str, date] | None:
    other = (
        await session.execute(
            select(Claim.event_kind, Claim.event_occurred_on)
            .where(Claim.member_id == body.member_id, Claim.event_ref == body.event.ref)
            .limit(1)
        )
    ).first()
    return None if other is None else (other[0], other[1])
