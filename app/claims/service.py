"""Filing claims, completing their documents, quotes, and reading them back.

One transaction per use case. Every path that may decide locks the member's row first (then the
claim), so the usage a decision reads is the usage it changes.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import record
from app.claims import facts as claim_facts
from app.claims.decisions import MemberState, Outlook, assess, member_state, refusal, settle
from app.claims.models import Claim, ClaimDocument, ClaimStatus, DecidedBy
from app.claims.schemas import BeneficiaryIn, ClaimIn, ClaimOut, DocumentIn, QuoteOut
from app.claims.views import claim_out, claim_view, decision_out, visible_claim
from app.core.clock import utc_now
from app.core.crypto import PersonalDataCipher
from app.core.errors import Conflict, Unprocessable
from app.core.masking import mask_id_number, mask_name
from app.core.metrics import CLAIMS_FILED, after_commit
from app.core.policy import Caller
from app.members.models import Member
from app.members.service import visible_member
from app.rules.decision import ReasonCode
from app.rules.facts import Claim as RulesClaim
from app.rules.id_numbers import InvalidIdNumber, parse_id_number
from app.rules.payee import BENEFICIARY, payee_for
from app.rules.plan import Plan
from app.rules.vocabulary import DEATH_BENEFITS

BENEFICIARY_NAME = "claim.beneficiary_name"
BENEFICIARY_ID_NUMBER = "claim.beneficiary_id_number"


async def locked_member(session: AsyncSession, caller: Caller, member_id: uuid.UUID) -> Member:
    """The member, row-locked for this transaction (SQLite: the write lock is already held)."""
    member = (
        await session.scalars(select(Member).where(Member.id == member_id).with_for_update())
    ).first()
    return visible_member(caller, member)


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


async def _duplicate_of(session: AsyncSession, key: str) -> uuid.UUID | None:
    return (await session.scalars(select(Claim.id).where(Claim.dedup_key == key))).first()


async def _check_event(session: AsyncSession, body: ClaimIn) -> None:
    """One reference, one event: every claim that names it must give the same kind and day,
    or a disability and a death could be kept apart (or put together) at will."""
    other = (
        await session.execute(
            select(Claim.event_kind, Claim.event_occurred_on)
            .where(Claim.member_id == body.member_id, Claim.event_ref == body.event.ref)
            .limit(1)
        )
    ).first()
    if other is not None and tuple(other) != (body.event.kind, body.event.occurred_on):
        raise Unprocessable(
            f"event {body.event.ref} was filed as {other[0]} on {other[1]}",
            code="event_mismatch",
            errors=[
                {
                    "code": "event_mismatch",
                    "field": "event",
                    "location": "body",
                    "message": "another claim gives this event another kind or date",
                }
            ],
        )


def _check_beneficiary(plan: Plan, body: ClaimIn, member: Member) -> None:
    if body.beneficiary is not None and body.benefit not in DEATH_BENEFITS:
        raise Unprocessable(
            "only a death benefit is paid to a beneficiary",
            code="beneficiary_not_expected",
            errors=[
                {
                    "code": "not_expected",
                    "field": "beneficiary",
                    "location": "body",
                    "message": "only a death benefit is paid to a beneficiary",
                }
            ],
        )
    needs = body.benefit in DEATH_BENEFITS and (
        payee_for(plan, body.benefit, member.union_org_code) == BENEFICIARY
    )
    if needs and body.beneficiary is None:
        raise Unprocessable(
            "the plan pays this death benefit to a beneficiary: name one",
            code="beneficiary_required",
            errors=[
                {
                    "code": "missing",
                    "field": "beneficiary",
                    "location": "body",
                    "message": "a beneficiary is required",
                }
            ],
        )
    if body.beneficiary is not None and isinstance(
        parse_id_number(body.beneficiary.id_number), InvalidIdNumber
    ):
        raise Unprocessable(
            "the beneficiary's ID number is not valid",
            code="invalid_id_number",
            errors=[
                {
                    "code": "invalid_id_number",
                    "field": "beneficiary.id_number",
                    "location": "body",
                    "message": "not a valid resident ID number",
                }
            ],
        )


def _set_beneficiary(claim: Claim, cipher: PersonalDataCipher, given: BeneficiaryIn) -> None:
    parsed = parse_id_number(given.id_number)
    assert not isinstance(parsed, InvalidIdNumber)
    claim.beneficiary_name_cipher = cipher.encrypt(given.name, context=BENEFICIARY_NAME)
    claim.beneficiary_name_masked = mask_name(given.name)
    claim.beneficiary_id_number_cipher = cipher.encrypt(parsed.value, context=BENEFICIARY_ID_NUMBER)
    claim.beneficiary_id_number_masked = mask_id_number(parsed.value)


async def _outlook(
    session: AsyncSession, plan: Plan, body: ClaimIn, rules_claim: RulesClaim, state: MemberState
) -> tuple[Outlook, str, uuid.UUID | None]:
    key = dedup_key(body)
    outlook = assess(plan, rules_claim, state, {d.type for d in body.documents})
    duplicate = await _duplicate_of(session, key)
    if duplicate is not None:
        decision = refusal(
            plan,
            body.benefit,
            ReasonCode.DUPLICATE_CLAIM,
            "a pending or approved claim has this member, benefit, event and facts",
        )
        outlook = Outlook(ClaimStatus.REJECTED, decision, outlook.missing_documents)
    return outlook, key, duplicate


async def file(
    session: AsyncSession,
    cipher: PersonalDataCipher,
    caller: Caller,
    body: ClaimIn,
    today: date,
) -> ClaimOut:
    rules_claim = claim_facts.rules_claim(body, body.facts, today, today)  # 422 before locking
    member = await locked_member(session, caller, body.member_id)
    state = await member_state(session, member, rules_claim)
    plan = state.plan_for(body.event.occurred_on)
    _check_beneficiary(plan, body, member)
    await _check_event(session, body)
    outlook, key, duplicate = await _outlook(session, plan, body, rules_claim, state)
    claim = Claim(
        id=uuid.uuid4(),
        member_id=member.id,
        plan_code=plan.code,
        benefit=body.benefit,
        event_kind=body.event.kind,
        event_occurred_on=body.event.occurred_on,
        event_ref=body.event.ref,
        facts=claim_facts.stored(body.facts),
        status=outlook.status.value,
        filed_on=today,
        filed_by_client_id=caller.client_id,
        filer_role=caller.role.value,
        filer_org_code=caller.org_code,
        dedup_key=None if duplicate else key,
    )
    if body.beneficiary is not None:
        _set_beneficiary(claim, cipher, body.beneficiary)
    session.add(claim)
    documents = _documents(claim, caller, body.documents)
    session.add_all(documents)
    await record(
        session,
        entity="claim",
        entity_id=claim.id,
        action="filed",
        client_id=caller.client_id,
        to_status=None if outlook.final else outlook.status.value,
        details={"benefit": body.benefit, "member_id": str(member.id)},
    )
    decision, payout = None, None
    if outlook.final:
        decision, payout = await settle(
            session,
            plan,
            state,
            claim,
            outlook.decision,
            claim.facts,
            caller=caller,
            decided_by=DecidedBy.ENGINE,
            from_status=None,
        )
    await session.flush()
    after_commit(session, CLAIMS_FILED.labels(claim.benefit, claim.status).inc)
    # Answered from what was just written: nothing to read back.
    return claim_view(claim, documents, outlook.missing_documents, decision, payout, None)


def _documents(claim: Claim, caller: Caller, given: list[DocumentIn]) -> list[ClaimDocument]:
    unique = {(d.type, d.ref): d for d in given}
    return [
        ClaimDocument(
            claim_id=claim.id,
            member_id=claim.member_id,
            type=d.type,
            ref=d.ref,
            sha256=d.sha256,
            added_by_client_id=caller.client_id,
        )
        for d in unique.values()
    ]


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


async def locked_claim(session: AsyncSession, caller: Caller, claim_id: uuid.UUID) -> Claim:
    """The claim with its member locked first (the order every deciding path takes)."""
    claim = visible_claim(caller, await session.get(Claim, claim_id))
    member_id = claim.member_id
    await session.scalars(select(Member.id).where(Member.id == member_id).with_for_update())
    refreshed = await session.get(Claim, claim_id, populate_existing=True, with_for_update=True)
    assert refreshed is not None
    return refreshed


async def add_documents(
    session: AsyncSession, caller: Caller, claim_id: uuid.UUID, given: list[DocumentIn], today: date
) -> ClaimOut:
    """Documents for a claim still open. The last missing one moves the claim on: decided by
    the engine where the facts decide, or to review."""
    claim = await locked_claim(session, caller, claim_id)
    if claim.status not in (ClaimStatus.PENDING_DOCUMENTS, ClaimStatus.PENDING_REVIEW):
        raise Conflict(f"the claim is already {claim.status}", code="claim_decided")
    existing = (
        await session.execute(
            select(ClaimDocument.type, ClaimDocument.ref).where(ClaimDocument.claim_id == claim.id)
        )
    ).all()
    seen = {(t, r) for t, r in existing}
    session.add_all(d for d in _documents(claim, caller, given) if (d.type, d.ref) not in seen)
    from_status = claim.status
    claim.updated_at = utc_now()
    outlook = None
    if claim.status == ClaimStatus.PENDING_DOCUMENTS:
        member = await session.get(Member, claim.member_id)
        assert member is not None
        body = stored_body(claim)
        rules_claim = claim_facts.rules_claim(body, body.facts, claim.filed_on, today)
        state = await member_state(session, member, rules_claim)
        plan = state.plan_for(claim.event_occurred_on)
        types = {t for t, _ in seen} | {d.type for d in given}
        outlook = assess(plan, rules_claim, state, types)
        if outlook.status is ClaimStatus.PENDING_REVIEW:
            claim.status = outlook.status.value
    await record(
        session,
        entity="claim",
        entity_id=claim.id,
        action="documents_added",
        client_id=caller.client_id,
        from_status=from_status,
        to_status=claim.status,
        details={"types": sorted({d.type for d in given})},
    )
    if outlook is not None and outlook.final:
        await settle(
            session,
            plan,
            state,
            claim,
            outlook.decision,
            claim.facts,
            caller=caller,
            decided_by=DecidedBy.ENGINE,
            from_status=from_status,
        )
    await session.flush()
    return await claim_out(session, claim)


async def quote(session: AsyncSession, caller: Caller, body: ClaimIn, today: date) -> QuoteOut:
    """What filing this claim now would lead to; nothing is stored and nothing is locked."""
    rules_claim = claim_facts.rules_claim(body, body.facts, today, today)
    member = visible_member(caller, await session.get(Member, body.member_id))
    state = await member_state(session, member, rules_claim)
    plan = state.plan_for(body.event.occurred_on)
    outlook, _, _ = await _outlook(session, plan, body, rules_claim, state)
    return QuoteOut(
        status=outlook.status,
        missing_documents=outlook.missing_documents,
        decision=decision_out(outlook.decision, None, None),
    )
