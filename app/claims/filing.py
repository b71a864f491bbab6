"""Filing a claim, and quoting one: load, decide, record.

1. Load (`app.claims.context`): the member (row-locked), their cover and usage, and what the
   records say; facts that contradict themselves or lie in the future are refused before that.
2. Decide (`app.rules.assessment`): in the pure core, on values only.
3. Record (`app.claims.recording`): the claim, its documents and, when the facts decide it, the
   decision with its usage, payout and audit, in this transaction.

A quote walks the first two stops and stores nothing.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from app.claims import context, recording
from app.claims import facts as claim_facts
from app.claims.context import ClaimContext
from app.claims.models import Claim
from app.claims.schemas import BeneficiaryIn, ClaimIn, ClaimOut, QuoteOut
from app.claims.views import claim_view, decision_out
from app.core.crypto import PersonalDataCipher
from app.core.errors import Unprocessable
from app.core.masking import mask_id_number, mask_name
from app.core.policy import Caller
from app.members.models import Member
from app.payouts import accounts
from app.rules.assessment import EventMismatch, Outlook, assess
from app.rules.id_numbers import InvalidIdNumber, parse_id_number
from app.rules.payee import BENEFICIARY, payee_for
from app.rules.plan import Plan
from app.rules.vocabulary import DEATH_BENEFITS

BENEFICIARY_NAME = "claim.beneficiary_name"
BENEFICIARY_ID_NUMBER = "claim.beneficiary_id_number"


async def file(
    session: AsyncSession,
    cipher: PersonalDataCipher,
    caller: Caller,
    body: ClaimIn,
    today: date,
    first: context.FirstRead,
) -> ClaimOut:
    """`first` sends the filing's first read (the member's lock): with the request's
    Idempotency-Key claimed in the same statement (`IdempotentRequest.first`)."""
    facts = claim_facts.rules_claim(body, body.facts, today, today)  # 422 before locking
    loaded = await context.for_filing(session, caller, body, facts, first)
    _check_beneficiary(loaded.plan, body, loaded.member)
    outlook = _assess(loaded)
    claim = Claim(
        id=uuid.uuid4(),
        member_id=loaded.member.id,
        plan_code=loaded.plan.code,
        plan_version=loaded.plan.version,
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
        dedup_key=None if loaded.on_record.duplicate else loaded.dedup_key,
    )
    if body.beneficiary is not None:
        _set_beneficiary(claim, cipher, body.beneficiary)
    if body.payee_account is not None:
        sealed = accounts.seal(cipher, body.payee_account)
        claim.payee_account_kind = sealed.kind
        claim.payee_account_cipher = sealed.cipher
        claim.payee_account_masked = sealed.masked
    recorded = await recording.record_filed(session, loaded, claim, body.documents, outlook, caller)
    # Answered from what was just written: nothing to read back.
    return claim_view(claim, recorded.documents, recorded.decision, recorded.payout)


async def quote(session: AsyncSession, caller: Caller, body: ClaimIn, today: date) -> QuoteOut:
    """What filing this claim now would lead to; nothing is stored and nothing is locked."""
    facts = claim_facts.rules_claim(body, body.facts, today, today)
    outlook = _assess(await context.for_quote(session, caller, body, facts))
    return QuoteOut(
        status=outlook.status.value,
        missing_documents=list(outlook.missing_documents),
        decision=decision_out(outlook.decision, None, None),
    )


def _assess(loaded: ClaimContext) -> Outlook:
    try:
        return assess(
            loaded.plan, loaded.facts, loaded.cover, loaded.usage.by_start, loaded.on_record
        )
    except EventMismatch as exc:
        raise Unprocessable(
            str(exc),
            code="event_mismatch",
            errors=[
                {
                    "code": "event_mismatch",
                    "field": "event",
                    "location": "body",
                    "message": "another claim gives this event another kind or date",
                }
            ],
        ) from exc


def _check_beneficiary(plan: Plan, body: ClaimIn, member: Member) -> None:
    if body.beneficiary is not None and body.benefit not in DEATH_BENEFITS:
        raise _beneficiary_problem(
            "beneficiary_not_expected",
            "not_expected",
            "beneficiary",
            "only a death benefit is paid to a beneficiary",
        )
    needs = body.benefit in DEATH_BENEFITS and (
        payee_for(plan, body.benefit, member.union_org_code) == BENEFICIARY
    )
    if needs and body.beneficiary is None:
        raise _beneficiary_problem(
            "beneficiary_required",
            "missing",
            "beneficiary",
            "the plan pays this death benefit to a beneficiary: name one",
            message="a beneficiary is required",
        )
    if body.beneficiary is not None and isinstance(
        parse_id_number(body.beneficiary.id_number), InvalidIdNumber
    ):
        raise _beneficiary_problem(
            "invalid_id_number",
            "invalid_id_number",
            "beneficiary.id_number",
            "the beneficiary's ID number is not valid",
            message="not a valid resident ID number",
        )


def _beneficiary_problem(
    code: str, field_code: str, field: str, detail: str, *, message: str | None = None
) -> Unprocessable:
    return Unprocessable(
        detail,
        code=code,
        errors=[
            {"code": field_code, "field": field, "location": "body", "message": message or detail}
        ],
    )


def _set_beneficiary(claim: Claim, cipher: PersonalDataCipher, given: BeneficiaryIn) -> None:
    parsed = parse_id_number(given.id_number)
    assert not isinstance(parsed, InvalidIdNumber)
    claim.beneficiary_name_cipher = cipher.encrypt(given.name, context=BENEFICIARY_NAME)
    claim.beneficiary_name_masked = mask_name(given.name)
    claim.beneficiary_id_number_cipher = cipher.encrypt(parsed.value, context=BENEFICIARY_ID_NUMBER)
    claim.beneficiary_id_number_masked = mask_id_number(parsed.value)
