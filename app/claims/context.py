"""Load: everything a claim's decision reads, read once in the request's transaction.

The member, their periods and usage (only what this claim needs), the plan of the period the
event falls in, what the records say (documents given, a duplicate, the event as other claims
gave it) and the payee's account on file. Every path that may decide (filing, documents,
review) locks the member's row first, then the claim's, so one member's decisions are taken one
at a time and the usage read here is the usage the record step changes
(`app.coverage.usage.consume` re-checks it).

Two round trips: the lock, then every read in one (`app.core.reads`). The reads come after the
lock on purpose: read in the same statement, they would see the database as it was before the
lock was granted, without the decision of the request that held it.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy import Uuid, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.claims import facts as claim_facts
from app.claims.models import Claim, ClaimDecision, ClaimDocument, ClaimStatus
from app.claims.schemas import ClaimIn
from app.claims.views import visible_claim
from app.core import reads, sealing
from app.core.crypto import PersonalDataCipher
from app.core.errors import NotFound
from app.core.policy import Caller, Role
from app.core.reads import Query
from app.coverage import usage
from app.coverage.models import CoveragePeriodRecord
from app.coverage.usage import MemberUsage
from app.coverage.versions import plan_on
from app.members.models import Member
from app.members.service import visible_member
from app.payouts import accounts as payout_accounts
from app.payouts.models import PayoutAccount
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
    # The accounts on file a payout may go to, by owner, when read with the rest (filing).
    accounts_on_file: Mapping[str, payout_accounts.Sealed] | None = None


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


# Sends a use case's first read, and answers its first row (`IdempotentRequest.first`).
FirstRead = Callable[[Query], Awaitable[tuple[Any, ...] | None]]


async def for_filing(
    session: AsyncSession, caller: Caller, body: ClaimIn, facts: ClaimFacts, first: FirstRead
) -> ClaimContext:
    """A new claim's context, the member row-locked for this transaction by the first read."""
    locked = await first(
        select(Member).where(Member.id == body.member_id).with_for_update(of=Member)
    )
    member = visible_member(caller, locked[0] if locked is not None else None)
    given = OnRecord(documents=frozenset(d.type for d in body.documents))
    return await _load(session, member, facts, given, _Filing(dedup_key(body), deciding=True))


async def for_quote(
    session: AsyncSession, caller: Caller, body: ClaimIn, facts: ClaimFacts
) -> ClaimContext:
    """What filing would read, without locking anything: a quote stores nothing."""
    member = visible_member(caller, await session.get(Member, body.member_id))
    given = OnRecord(documents=frozenset(d.type for d in body.documents))
    return await _load(session, member, facts, given, _Filing(dedup_key(body), deciding=False))


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
    return await _load(session, member, facts, OnRecord(documents=frozenset(documents)), None)


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


@dataclass(frozen=True)
class _Filing:
    """What a claim not stored yet also reads: whether its key is held (a duplicate) and, to
    file it, the event as other claims gave it and the accounts on file (a quote does not)."""

    key: str
    deciding: bool


async def _load(
    session: AsyncSession,
    member: Member,
    facts: ClaimFacts,
    on_record: OnRecord,
    filing: _Filing | None,
) -> ClaimContext:
    """Every read after the member's: one round trip."""
    stay = facts.facts.admitted_on if isinstance(facts.facts, HospitalStay) else None
    usage_reads = usage.reads(hospital_days=facts.benefit == HOSPITAL_ALLOWANCE)
    statements = [_PERIODS, *usage_reads]
    if stay is not None:
        statements.append(_STAYS_REFUSED)
    if filing is not None:
        statements.append(_HOLDERS)
        if filing.deciding:
            statements += [_EVENT_GIVEN, _ACCOUNTS]
    union = member.union_org_code
    params = {
        "member_id": member.id,
        "event_ref": facts.event.ref,
        "dedup_key": filing.key if filing is not None else None,
        "member_owner": payout_accounts.member_owner(member.id),
        "union_owner": payout_accounts.union_owner(union) if union else None,
    }
    answers = await reads.fetch_all(session, statements, params)
    periods = answers[0]
    usage_rows = answers[1 : 1 + len(usage_reads)]
    rest = iter(answers[1 + len(usage_reads) :])
    cipher = sealing.cipher_of(session)
    if stay is not None and _refused_for_waiting(next(rest), stay, cipher):
        on_record = replace(on_record, stay_refused_for_waiting=True)
    on_file = None
    if filing is not None:
        on_record = replace(on_record, duplicate=bool(next(rest)))
        if filing.deciding:
            events = next(rest)
            if events:
                on_record = replace(
                    on_record, event=(events[0].event_kind, events[0].event_occurred_on)
                )
            on_file = {row.owner: payout_accounts.Sealed(*row[1:]) for row in next(rest)}
    return ClaimContext(
        facts=facts,
        member=member,
        cover=MemberCover(
            tuple(CoveragePeriod(p.starts_on, p.ends_on, p.continues_previous) for p in periods),
            member.died_on,
        ),
        period_ids={p.starts_on: p.id for p in periods},
        usage=usage.built(
            usage_rows, {p.id: p.starts_on for p in periods}, facts.event.ref, cipher
        ),
        on_record=on_record,
        plan=plan_on(periods, facts.event.occurred_on, DEFAULT_PLAN_CODE),
        dedup_key=filing.key if filing is not None else None,
        accounts_on_file=on_file,
    )


# The reads of `_load`, built once; their values come as bind parameters. (A key column's type
# is known only once the table it refers to is, hence the type given here.)
_MEMBER_ID = bindparam("member_id", type_=Uuid())
_PERIODS: Query = (
    select(
        CoveragePeriodRecord.id,
        CoveragePeriodRecord.starts_on,
        CoveragePeriodRecord.ends_on,
        CoveragePeriodRecord.continues_previous,
        CoveragePeriodRecord.plan_code,
        CoveragePeriodRecord.plan_version,
    )
    .where(CoveragePeriodRecord.member_id == _MEMBER_ID)
    .order_by(CoveragePeriodRecord.starts_on)
)
# The member's refused claims on hospital stays, with their facts and reasons (sealed).
_STAYS_REFUSED: Query = (
    select(Claim.facts_cipher, ClaimDecision.reasons_cipher)
    .join(ClaimDecision, ClaimDecision.claim_id == Claim.id)
    .where(
        Claim.member_id == _MEMBER_ID,
        Claim.benefit.in_(STAY_BENEFITS),
        Claim.status == ClaimStatus.REJECTED.value,
    )
)
_HOLDERS: Query = select(Claim.id).where(Claim.dedup_key == bindparam("dedup_key")).limit(1)
_EVENT_GIVEN: Query = (
    select(Claim.event_kind, Claim.event_occurred_on)
    .where(Claim.member_id == _MEMBER_ID, Claim.event_ref == bindparam("event_ref"))
    .limit(1)
)
# The accounts on file a payout of the member's may go to: theirs, their union's.
_ACCOUNTS: Query = select(
    PayoutAccount.owner,
    PayoutAccount.kind,
    PayoutAccount.account_cipher,
    PayoutAccount.account_masked,
).where(PayoutAccount.owner.in_([bindparam("member_owner"), bindparam("union_owner")]))


def _refused_for_waiting(
    refused: Sequence[Any], admitted_on: date, cipher: PersonalDataCipher
) -> bool:
    """Whether a claim of the member for a stay admitted that day (any benefit paid on hospital
    stays) was refused for the waiting period."""
    for facts_cipher, reasons_cipher in refused:
        facts = Claim.facts.opened(facts_cipher, cipher)
        reasons = ClaimDecision.reasons.opened(reasons_cipher, cipher)
        if facts.get("admitted_on") == admitted_on.isoformat() and any(
            r.get("code") == ReasonCode.WAITING_PERIOD.value for r in reasons
        ):
            return True
    return False


async def holds_key(session: AsyncSession, key: str) -> bool:
    return (
        await session.scalars(select(Claim.id).where(Claim.dedup_key == key))
    ).first() is not None
