"""Where a claim stands once its records are read: decided now, waiting for documents, or for an
examiner; and the refusals decided outside the arithmetic (a duplicate, an examiner's no).

The claims feature reads what the records say (the member's cover and usage, the documents
given, whether the same claim is already pending or approved, what other claims said of the same
event) and hands it here as values; nothing here reads a database or the clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from app.rules.adjudication import decide
from app.rules.coverage import MemberCover, period_on, waiting_last_day
from app.rules.decision import Decision, Line, LineKind, Outcome, Reason, ReasonCode, Usage
from app.rules.facts import ClaimFacts
from app.rules.money import yuan
from app.rules.plan import Plan
from app.rules.vocabulary import ACCIDENT, DEATH_BENEFITS, HOSPITAL_ALLOWANCE, ILLNESS


class Standing(StrEnum):
    """Where a claim stands; the claim's stored status takes these values."""

    PENDING_DOCUMENTS = "pending_documents"
    PENDING_REVIEW = "pending_review"
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class OnRecord:
    """What the records say about a claim beyond cover and usage."""

    # The document types given so far.
    documents: frozenset[str] = frozenset()
    # A pending or approved claim has the same member, benefit, event and facts.
    duplicate: bool = False
    # The kind and day another claim of the member gave the same event reference.
    event: tuple[str, date] | None = None
    # Another claim for the same hospital stay (same admission day) was refused for the
    # waiting period.
    stay_refused_for_waiting: bool = False


class EventMismatch(ValueError):
    """One reference, one event: a claim naming an event another claim dated or classed
    differently is a broken request, or a disability and a death could be kept apart (or put
    together) at will."""

    def __init__(self, ref: str, kind: str, occurred_on: date) -> None:
        super().__init__(f"event {ref} was filed as {kind} on {occurred_on}")


@dataclass(frozen=True, slots=True)
class Outlook:
    """Where a claim stands on the facts given: its standing, and the engine's decision."""

    status: Standing
    decision: Decision
    missing_documents: tuple[str, ...]
    # Why a claim the engine would pay goes to an examiner all the same, if it does.
    review_because: str | None = None

    @property
    def final(self) -> bool:
        return self.status in (Standing.APPROVED, Standing.REJECTED)


def refusal(plan: Plan, benefit: str, code: ReasonCode, detail: str) -> Decision:
    """A refusal decided outside the arithmetic: a duplicate, an examiner's no."""
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


def decide_on_record(
    plan: Plan, claim: ClaimFacts, cover: MemberCover, usage_by_period: Mapping[date, Usage]
) -> Decision:
    """The engine's decision, after one check only the record can make: a member whose death
    was already accepted (even for no payment) gets no second death benefit."""
    if claim.benefit in DEATH_BENEFITS and cover.died_on is not None:
        return refusal(
            plan,
            claim.benefit,
            ReasonCode.BENEFIT_LIMIT_REACHED,
            f"the member's death on {cover.died_on} was already decided",
        )
    return decide(plan, claim, cover, usage_by_period)


def suspected_relabel(
    plan: Plan, claim: ClaimFacts, cover: MemberCover, on_record: OnRecord
) -> str | None:
    """Why a hospital stay the engine would pay must be judged by an examiner, or None.

    Illness waits (30 days from a first enrolment), accidents do not: an illness stay
    refiled as an accident, inside the illness waiting period or after a claim for the same stay
    was refused for it, would otherwise be paid on the filer's word."""
    if claim.benefit != HOSPITAL_ALLOWANCE:
        return None
    if on_record.stay_refused_for_waiting:
        return "stay_refused_for_waiting_period"
    if claim.event.kind != ACCIDENT:
        return None
    period = period_on(cover.periods, claim.event.occurred_on)
    last = waiting_last_day(plan, period, ILLNESS) if period is not None else None
    if last is not None and claim.event.occurred_on <= last:
        return "accident_inside_illness_waiting_period"
    return None


def refused_on_cover(decision: Decision) -> bool:
    """Refused before any amount was worked out: no cover, waiting period, deadline, death."""
    return not decision.approved and not any(line.kind is LineKind.GROSS for line in decision.lines)


def assess(
    plan: Plan,
    claim: ClaimFacts,
    cover: MemberCover,
    usage_by_period: Mapping[date, Usage],
    on_record: OnRecord,
) -> Outlook:
    """Decide now where the facts decide; otherwise wait for documents, then for an examiner.

    A refusal on cover (no cover, waiting period, deadline, death) is final at once: no
    document or judgment changes it. A benefit the plan marks for review is otherwise decided
    only by an examiner; any other benefit is decided by the engine once its documents are in.
    A hospital stay that may be an illness relabelled as an accident goes to an examiner too
    (`suspected_relabel`). A claim that repeats a pending or approved one is refused
    `duplicate_claim`. Raises
    `EventMismatch` for an event the records know otherwise.
    """
    if on_record.event is not None and on_record.event != (
        claim.event.kind,
        claim.event.occurred_on,
    ):
        raise EventMismatch(claim.event.ref, *on_record.event)
    decision = decide_on_record(plan, claim, cover, usage_by_period)
    terms = plan.benefit(claim.benefit)
    missing = tuple(t for t in terms.required_documents.value if t not in on_record.documents)
    if on_record.duplicate:
        duplicate = refusal(
            plan,
            claim.benefit,
            ReasonCode.DUPLICATE_CLAIM,
            "a pending or approved claim has this member, benefit, event and facts",
        )
        return Outlook(Standing.REJECTED, duplicate, missing)
    because = suspected_relabel(plan, claim, cover, on_record) if decision.approved else None
    review = terms.requires_review.value or because is not None
    if refused_on_cover(decision) or (not decision.approved and not review):
        status = Standing.REJECTED
    elif missing:
        status = Standing.PENDING_DOCUMENTS
    elif review:
        status = Standing.PENDING_REVIEW
    else:
        status = Standing.APPROVED
    return Outlook(status, decision, missing, because)
