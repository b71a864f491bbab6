"""Record: every row a step of a claim writes, written here and nowhere else.

A filing writes the claim, its documents and the audit event; a final decision writes the
decision as the rules core explained it, the usage it consumes (`app.coverage.usage.consume`,
which refuses to pass a cap whatever else commits), the payout it owes, the end of cover a death
brings (`app.coverage.endings.record_death`), the audit event, and the metrics that count on
commit. All of it in the caller's transaction: it commits together or not at all.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import Change, record
from app.claims.context import ClaimContext
from app.claims.models import (
    FIRST_DECISION,
    ON_APPEAL,
    Claim,
    ClaimDecision,
    ClaimDocument,
    ClaimStatus,
    DecidedBy,
)
from app.claims.schemas import DocumentIn
from app.core import writes
from app.core.clock import utc_now
from app.core.metrics import CLAIM_DECISIONS, CLAIM_PAYABLE_FEN, CLAIMS_FILED, after_commit
from app.core.policy import Caller
from app.coverage import usage
from app.coverage.endings import record_death
from app.notifications.events import claim_decided, claim_filed
from app.notifications.outbox import notify, notify_new
from app.payouts import accounts, lifecycle
from app.payouts.models import PayeeKind, Payout
from app.rules.assessment import Outlook
from app.rules.decision import Decision, Outcome
from app.rules.payee import payee_for
from app.rules.vocabulary import DEATH_BENEFITS


@dataclass(frozen=True)
class Verdict:
    """A final decision and what it was decided on."""

    decision: Decision
    # The facts decided on, as stored: as filed, or as an examiner judged them.
    facts: dict[str, Any]
    decided_by: DecidedBy
    # The Shanghai day it was decided, by the service's clock.
    decided_on: date
    note: str | None = None
    # A death the decision accepts even if it pays nothing (the disability already paid may
    # leave nothing): it ends the member's cover from the next day.
    death_on: date | None = None


@dataclass(frozen=True)
class Recorded:
    """What a step wrote, to answer from without reading it back."""

    documents: list[ClaimDocument] = field(default_factory=list)
    decision: ClaimDecision | None = None
    payout: Payout | None = None


def _document_rows(claim: Claim, caller: Caller, given: list[DocumentIn]) -> list[ClaimDocument]:
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


async def record_filed(
    session: AsyncSession,
    context: ClaimContext,
    claim: Claim,
    given: list[DocumentIn],
    outlook: Outlook,
    caller: Caller,
) -> Recorded:
    """A new claim, its documents and, when the facts decide it, its decision.

    Nothing here waits for the database: every row is queued (`app.core.writes`) and goes in
    one statement with the stored answer to the request, the usage counters' checks with it.
    """
    with session.no_autoflush:
        session.add(claim)
        documents = _document_rows(claim, caller, given)
        session.add_all(documents)
        record(
            session,
            Change(
                entity="claim",
                entity_id=claim.id,
                action="filed",
                client_id=caller.client_id,
                to_status=None if outlook.final else outlook.status.value,
                details={"benefit": claim.benefit, "member_id": str(claim.member_id)}
                | ({"review_because": outlook.review_because} if outlook.review_because else {}),
            ),
        )
        decided = Recorded()
        if outlook.final:
            verdict = Verdict(outlook.decision, claim.facts, DecidedBy.ENGINE, claim.filed_on)
            decided = await record_decision(session, context, claim, verdict, caller, None)
        else:
            missing = outlook.missing_documents
            notify_new(session, claim_filed(claim.member_id, claim.id, claim.status, missing))
        writes.pending(session).adopt(session)
    after_commit(session, CLAIMS_FILED.labels(claim.benefit, claim.status).inc)
    return Recorded(documents, decided.decision, decided.payout)


def record_step(
    session: AsyncSession,
    claim: Claim,
    action: str,
    to_status: ClaimStatus,
    caller: Caller | None,
    details: dict[str, Any] | None = None,
) -> None:
    """A step of a claim's life that decides nothing (withdrawn, expired, appealed): its new
    status, and the entry on its history."""
    from_status = claim.status
    claim.status = to_status.value
    claim.updated_at = utc_now()
    if to_status is not ClaimStatus.PENDING_REVIEW:
        claim.dedup_key = None  # a claim no longer open does not block filing the facts again
    record(
        session,
        Change(
            entity="claim",
            entity_id=claim.id,
            action=action,
            client_id=caller.client_id if caller else None,
            from_status=from_status,
            to_status=claim.status,
            details=details,
        ),
    )


async def record_documents(
    session: AsyncSession,
    claim: Claim,
    given: list[DocumentIn],
    held: set[tuple[str, str]],
    outlook: Outlook | None,
    caller: Caller,
) -> str:
    """Documents added to an open claim (those it does not hold yet), and the move to review
    they may bring; the claim's status before."""
    from_status = claim.status
    session.add_all(d for d in _document_rows(claim, caller, given) if (d.type, d.ref) not in held)
    claim.updated_at = utc_now()
    if outlook is not None and outlook.status.value == ClaimStatus.PENDING_REVIEW:
        claim.status = ClaimStatus.PENDING_REVIEW.value
    record(
        session,
        Change(
            entity="claim",
            entity_id=claim.id,
            action="documents_added",
            client_id=caller.client_id,
            from_status=from_status,
            to_status=claim.status,
            details={"types": sorted({d.type for d in given})},
        ),
    )
    return from_status


async def record_decision(
    session: AsyncSession,
    context: ClaimContext,
    claim: Claim,
    verdict: Verdict,
    caller: Caller,
    from_status: str | None,
) -> Recorded:
    """A final decision (or the decision on appeal); an approval also consumes usage and owes
    a payout. `claim` must already be in the session."""
    decision = verdict.decision
    period_id = context.period_ids[decision.period_starts_on] if decision.period_starts_on else None
    payout = None
    death_on = verdict.death_on
    if decision.approved:
        assert decision.usage is not None
        assert period_id is not None
        paid = usage.Consumption(
            member_id=claim.member_id,
            period_id=period_id,
            seen_version=context.usage.versions.get(period_id, 0),
            claim_id=claim.id,
            delta=decision.usage,
        )
        await usage.consume(session, context.plan, paid)
        payout = await _owe(session, context, claim, period_id, decision, caller)
        death_on = death_on or decision.usage.died_on
        claim.status = ClaimStatus.APPROVED.value
    else:
        claim.status = ClaimStatus.REJECTED.value
        claim.dedup_key = None  # a refused claim does not block filing the same facts again
    if death_on is not None and claim.benefit in DEATH_BENEFITS:
        await record_death(session, context.member, death_on, context.plan)
    claim.updated_at = utc_now()
    row = _decision_row(claim, verdict, caller, period_id)
    session.add(row)
    told = claim_decided(
        claim.member_id, claim.id, row.round, decision.approved, decision.payable_fen
    )
    if inspect(claim).pending:  # filed in this transaction: no message about it exists yet
        notify_new(session, [told])
    else:
        await notify(session, [told])
    after_commit(session, lambda: _count(claim.benefit, decision, verdict.decided_by))
    record(
        session,
        Change(
            entity="claim",
            entity_id=claim.id,
            action="approved" if decision.outcome is Outcome.APPROVED else "rejected",
            client_id=caller.client_id,
            from_status=from_status,
            to_status=claim.status,
            details={
                "payable_fen": decision.payable_fen,
                "reasons": [r.code.value for r in decision.reasons],
                "decided_by": verdict.decided_by.value,
            },
        ),
    )
    return Recorded(decision=row, payout=payout)


async def _owe(
    session: AsyncSession,
    context: ClaimContext,
    claim: Claim,
    period_id: uuid.UUID,
    decision: Decision,
    caller: Caller,
) -> Payout:
    """What the approval owes, and to whom: the member, a beneficiary, or the district union."""
    member = context.member
    payee = PayeeKind(payee_for(context.plan, claim.benefit, member.union_org_code))
    owed = lifecycle.Owed(
        claim_id=claim.id,
        member_id=claim.member_id,
        period_id=period_id,
        benefit=claim.benefit,
        amount_fen=decision.payable_fen,
        payee=payee,
        union_org_code=member.union_org_code if payee is PayeeKind.DISTRICT_UNION else None,
        decided_by_client_id=caller.client_id,
        four_eyes_from_fen=context.plan.claims.four_eyes_from_fen.value,
        given_account=_given_account(claim),
        on_file=context.accounts_on_file,
    )
    return await lifecycle.owe(session, owed)


def _given_account(claim: Claim) -> accounts.Sealed | None:
    kind, cipher, masked = (
        claim.payee_account_kind,
        claim.payee_account_cipher,
        claim.payee_account_masked,
    )
    if kind is None or cipher is None or masked is None:
        return None
    return accounts.Sealed(kind, cipher, masked)


def _decision_row(
    claim: Claim, verdict: Verdict, caller: Caller, period_id: uuid.UUID | None
) -> ClaimDecision:
    decision = verdict.decision
    return ClaimDecision(
        claim_id=claim.id,
        round=ON_APPEAL if claim.appealed_at is not None else FIRST_DECISION,
        decided_on=verdict.decided_on,
        member_id=claim.member_id,
        plan_code=decision.plan_code,
        plan_version=decision.plan_version,
        outcome=decision.outcome.value,
        payable_fen=decision.payable_fen,
        facts=verdict.facts,
        lines=[
            {
                "kind": line.kind.value,
                "code": line.code,
                "text": line.text,
                "amount_fen": line.amount_fen,
                "rule": line.rule,
            }
            for line in decision.lines
        ],
        reasons=[{"code": r.code.value, "detail": r.detail} for r in decision.reasons],
        decided_by=verdict.decided_by.value,
        decided_by_client_id=caller.client_id,
        note=verdict.note,
        coverage_period_id=period_id,
    )


def _count(benefit: str, decision: Decision, decided_by: DecidedBy) -> None:
    CLAIM_DECISIONS.labels(benefit, decision.outcome.value, decided_by.value).inc()
    if decision.approved:
        CLAIM_PAYABLE_FEN.labels(benefit).inc(decision.payable_fen)
