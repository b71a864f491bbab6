"""Deciding a claim against the member's cover and usage, and recording the decision.

Every path that can decide (filing, completing documents, review) holds the member's row lock
for the whole transaction, so one member's decisions are taken one at a time, each seeing what
the ones before it paid; `usage.consume` re-checks that with conditional UPDATEs.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import record
from app.claims import payouts
from app.claims.models import Claim, ClaimDecision, ClaimStatus, DecidedBy, Payout
from app.core.clock import utc_now
from app.core.metrics import CLAIM_DECISIONS, CLAIM_PAYABLE_FEN, after_commit
from app.core.policy import Caller
from app.coverage import usage
from app.coverage.endings import record_death
from app.coverage.models import CoveragePeriodRecord
from app.members.models import Member
from app.plans import DEFAULT_PLAN_CODE, get_plan
from app.rules.adjudication import decide
from app.rules.coverage import CoveragePeriod, MemberCover
from app.rules.decision import Decision, Line, LineKind, Outcome, Reason, ReasonCode
from app.rules.facts import Claim as RulesClaim
from app.rules.money import yuan
from app.rules.plan import Plan
from app.rules.vocabulary import DEATH_BENEFITS, HOSPITAL_ALLOWANCE


@dataclass
class MemberState:
    """A member's cover and usage, read once per transaction (under the member's lock)."""

    member: Member
    periods: list[CoveragePeriodRecord]
    usage: usage.MemberUsage

    @property
    def cover(self) -> MemberCover:
        return MemberCover(
            tuple(
                CoveragePeriod(p.starts_on, p.ends_on, p.continues_previous) for p in self.periods
            ),
            self.member.died_on,
        )

    def plan_for(self, day: date) -> Plan:
        """The plan of the period `day` falls in; else of the latest period; else the default."""
        period = next((p for p in self.periods if p.starts_on <= day <= p.ends_on), None)
        period = period or (self.periods[-1] if self.periods else None)
        plan = get_plan(period.plan_code if period else DEFAULT_PLAN_CODE)
        assert plan is not None, "a period's plan is always shipped"
        return plan

    def period_id(self, starts_on: date) -> uuid.UUID:
        return next(p.id for p in self.periods if p.starts_on == starts_on)


async def member_state(session: AsyncSession, member: Member, claim: RulesClaim) -> MemberState:
    periods = list(
        (
            await session.scalars(
                select(CoveragePeriodRecord)
                .where(CoveragePeriodRecord.member_id == member.id)
                .order_by(CoveragePeriodRecord.starts_on)
            )
        ).all()
    )
    counters = await usage.load(
        session,
        member.id,
        {p.id: p.starts_on for p in periods},
        event_ref=claim.event.ref,
        hospital_days=claim.benefit == HOSPITAL_ALLOWANCE,
    )
    return MemberState(member, periods, counters)


@dataclass(frozen=True)
class Outlook:
    """Where a claim stands on the facts given: its status, and the engine's decision."""

    status: ClaimStatus
    decision: Decision
    missing_documents: list[str]

    @property
    def final(self) -> bool:
        return self.status in (ClaimStatus.APPROVED, ClaimStatus.REJECTED)


def decide_claim(plan: Plan, claim: RulesClaim, state: MemberState) -> Decision:
    """The rules core's decision, after one check only the record can make: a member whose
    death an examiner already accepted (even for no payment) gets no second death benefit."""
    if claim.benefit in DEATH_BENEFITS and state.member.died_on is not None:
        return refusal(
            plan,
            claim.benefit,
            ReasonCode.BENEFIT_LIMIT_REACHED,
            f"the member's death on {state.member.died_on} was already decided",
        )
    return decide(plan, claim, state.cover, state.usage.by_start)


def refused_on_cover(decision: Decision) -> bool:
    """Refused before any amount was worked out: no cover, waiting period, deadline, death."""
    return not decision.approved and not any(line.kind is LineKind.GROSS for line in decision.lines)


def assess(plan: Plan, claim: RulesClaim, state: MemberState, document_types: set[str]) -> Outlook:
    """Decide now where the facts decide; otherwise wait for documents, then for an examiner.

    A refusal on cover (no cover, waiting period, deadline, death) is final at once: no
    document or judgment changes it. A benefit the plan marks for review is otherwise decided
    only by an examiner; any other benefit is decided by the engine once its documents are in.
    """
    decision = decide_claim(plan, claim, state)
    terms = plan.benefit(claim.benefit)
    missing = [kind for kind in terms.required_documents.value if kind not in document_types]
    if refused_on_cover(decision) or (not decision.approved and not terms.requires_review.value):
        status = ClaimStatus.REJECTED
    elif missing:
        status = ClaimStatus.PENDING_DOCUMENTS
    elif terms.requires_review.value:
        status = ClaimStatus.PENDING_REVIEW
    else:
        status = ClaimStatus.APPROVED
    return Outlook(status, decision, missing)


def refusal(plan: Plan, benefit: str, code: ReasonCode, detail: str) -> Decision:
    """A refusal decided outside the rules core's arithmetic: a duplicate, an examiner's no."""
    return Decision(
        plan_code=plan.code,
        plan_version=plan.version,
        benefit=benefit,
        outcome=Outcome.REJECTED,
        payable_fen=0,
        lines=(Line(LineKind.PAYABLE, "payable", f"payable {yuan(0)}", 0),),
        reasons=(Reason(code, detail),),
        usage=None,
    )


def decision_json(decision: Decision) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    lines = [
        {
            "kind": line.kind.value,
            "code": line.code,
            "text": line.text,
            "amount_fen": line.amount_fen,
            "rule": line.rule,
        }
        for line in decision.lines
    ]
    reasons = [{"code": r.code.value, "detail": r.detail} for r in decision.reasons]
    return lines, reasons


async def settle(
    session: AsyncSession,
    plan: Plan,
    state: MemberState,
    claim: Claim,
    decision: Decision,
    facts: dict[str, Any],
    *,
    caller: Caller,
    decided_by: DecidedBy,
    from_status: str | None,
    note: str | None = None,
    death_on: date | None = None,
) -> tuple[ClaimDecision, Payout | None]:
    """Record a final decision; an approval also consumes usage and owes a payout, in this
    transaction. `claim` must already be in the session.

    `death_on`: a death the decision accepts, paid or not (the disability already paid may
    leave nothing): it ends the member's cover from the next day.
    """
    period_id = state.period_id(decision.period_starts_on) if decision.period_starts_on else None
    if decision.approved:
        assert decision.usage is not None
        assert period_id is not None
        await usage.consume(
            session,
            plan,
            member_id=claim.member_id,
            period_id=period_id,
            seen_version=state.usage.versions.get(period_id, 0),
            delta=decision.usage,
            claim_id=claim.id,
        )
        payout = payouts.owe(plan, claim, state.member, period_id, decision.payable_fen)
        session.add(payout)
        death_on = death_on or decision.usage.died_on
        claim.status = ClaimStatus.APPROVED.value
    else:
        payout = None
        claim.status = ClaimStatus.REJECTED.value
        claim.dedup_key = None  # a refused claim does not block filing the same facts again
    if death_on is not None and claim.benefit in DEATH_BENEFITS:
        await record_death(session, state.member, death_on, plan)
    claim.updated_at = utc_now()
    lines, reasons = decision_json(decision)
    record_ = ClaimDecision(
        claim_id=claim.id,
        member_id=claim.member_id,
        plan_code=decision.plan_code,
        plan_version=decision.plan_version,
        outcome=decision.outcome.value,
        payable_fen=decision.payable_fen,
        facts=facts,
        lines=lines,
        reasons=reasons,
        decided_by=decided_by.value,
        decided_by_client_id=caller.client_id,
        note=note,
        coverage_period_id=period_id,
    )
    session.add(record_)
    after_commit(session, lambda: _count(claim.benefit, decision, decided_by))
    await record(
        session,
        entity="claim",
        entity_id=claim.id,
        action="approved" if decision.outcome is Outcome.APPROVED else "rejected",
        client_id=caller.client_id,
        from_status=from_status,
        to_status=claim.status,
        details={
            "payable_fen": decision.payable_fen,
            "reasons": [r.code.value for r in decision.reasons],
            "decided_by": decided_by.value,
        },
    )
    return record_, payout


def _count(benefit: str, decision: Decision, decided_by: DecidedBy) -> None:
    CLAIM_DECISIONS.labels(benefit, decision.outcome.value, decided_by.value).inc()
    if decision.approved:
        CLAIM_PAYABLE_FEN.labels(benefit).inc(decision.payable_fen)
