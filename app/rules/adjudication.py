"""Deciding a claim: cover checks, the benefit's own rule, then the ceiling.

1. Cover: the event must fall in a paid period, not after the member's death, be claimed within
   the deadline (counted from when the event was known: discharge, diagnosis, death,
   assessment), be of a kind the benefit covers, and (illness) be past the waiting period. Only
   one death benefit is ever paid. Every failing check is a reason; any of them refuses.
2. The benefit's calculator (app/rules/benefits/) computes the gross amount and its own limits.
3. The ceiling: at most `ceiling_fen` paid per member per period over all seven benefits; a claim
   that would cross it is paid the remainder and says `ceiling_reached`.

Claims are decided first come, first decided: a claim refused because a cap was reached stays
refused even if a later decision frees room under that cap.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import date

from app.rules.benefits import CALCULATORS, Assessment, BenefitContext
from app.rules.calendar import ONE_DAY, anniversary
from app.rules.coverage import (
    CoveragePeriod,
    MemberCover,
    cover_ended_by_death,
    ended_at_age_limit,
    period_on,
    waiting_last_day,
)
from app.rules.decision import (
    Decision,
    Line,
    LineKind,
    Outcome,
    Reason,
    ReasonCode,
    Usage,
    UsageDelta,
)
from app.rules.facts import ClaimFacts, DeathFacts, InvalidFacts, known_on
from app.rules.money import yuan
from app.rules.plan import Plan
from app.rules.vocabulary import DEATH_BENEFITS


def cover_reasons(
    plan: Plan, claim: ClaimFacts, cover: MemberCover, usage_by_period: Mapping[date, Usage]
) -> tuple[CoveragePeriod | None, list[Reason]]:
    """The period the event falls in, and every cover check the claim fails."""
    event, reasons = claim.event, []
    terms = plan.benefit(claim.benefit)
    if event.kind not in terms.event_kinds.value:
        reasons.append(
            Reason(
                ReasonCode.EVENT_KIND_NOT_COVERED,
                f"{claim.benefit} does not cover {event.kind} events",
            )
        )
    if cover_ended_by_death(plan, cover, event.occurred_on):
        reasons.append(
            Reason(
                ReasonCode.COVER_ENDED_BY_DEATH,
                f"cover ended with the member's death on {cover.died_on}",
            )
        )
    period = period_on(cover.periods, event.occurred_on)
    if period is None and ended_at_age_limit(plan, cover.periods, event.occurred_on):
        reasons.append(
            Reason(
                ReasonCode.AGE_LIMIT_REACHED,
                f"cover ended before the member's {plan.eligibility.under_age.value}th birthday",
            )
        )
    elif period is None:
        reasons.append(
            Reason(ReasonCode.NO_ACTIVE_COVERAGE, f"no paid cover on {event.occurred_on}")
        )
    deadline = anniversary(known_on(event, claim.facts), plan.claims.deadline_years.value)
    if claim.filed_on > deadline:
        reasons.append(
            Reason(ReasonCode.CLAIM_DEADLINE_PASSED, f"claims for this event closed on {deadline}")
        )
    if period is not None:
        last_waiting_day = waiting_last_day(plan, period, event.kind)
        if last_waiting_day is not None and event.occurred_on <= last_waiting_day:
            reasons.append(
                Reason(
                    ReasonCode.WAITING_PERIOD,
                    f"the waiting period for {event.kind} events runs to {last_waiting_day}",
                )
            )
    if claim.benefit in DEATH_BENEFITS and any(
        usage.paid(code) > 0 for usage in usage_by_period.values() for code in DEATH_BENEFITS
    ):
        reasons.append(Reason(ReasonCode.BENEFIT_LIMIT_REACHED, "a death benefit was already paid"))
    return period, reasons


def continuous_cover_until(periods: Iterable[CoveragePeriod], period: CoveragePeriod) -> date:
    """The last day of cover without a gap from `period` on (renewals continue it)."""
    until = period.ends_on
    for later in sorted(periods, key=lambda p: p.starts_on):
        if later.starts_on == until + ONE_DAY:
            until = later.ends_on
    return until


def decide(
    plan: Plan, claim: ClaimFacts, cover: MemberCover, usage_by_period: Mapping[date, Usage]
) -> Decision:
    """Decide one claim given what each period has paid so far (keyed by period start).

    A death benefit already paid ends the cover on its date of death, even before the member's
    record says so.
    """
    if claim.benefit not in plan.benefits:
        raise InvalidFacts("benefit", f"unknown benefit {claim.benefit!r}")
    paid_deaths = [u.died_on for u in usage_by_period.values() if u.died_on is not None]
    if paid_deaths and (cover.died_on is None or min(paid_deaths) < cover.died_on):
        cover = replace(cover, died_on=min(paid_deaths))
    period, reasons = cover_reasons(plan, claim, cover, usage_by_period)
    if reasons or period is None:
        return Decision(
            plan_code=plan.code,
            plan_version=plan.version,
            benefit=claim.benefit,
            outcome=Outcome.REJECTED,
            payable_fen=0,
            lines=(Line(LineKind.PAYABLE, "payable", f"payable {yuan(0)}", 0),),
            reasons=tuple(reasons),
            usage=None,
            period_starts_on=period.starts_on if period else None,
        )

    usage = usage_by_period.get(period.starts_on, Usage())
    context = BenefitContext(
        plan,
        plan.benefit(claim.benefit),
        claim.event,
        period,
        usage,
        continuous_cover_until(cover.periods, period),
        frozenset().union(*(u.hospital_dates for u in usage_by_period.values())),
        cover.died_on,
    )
    assessment = CALCULATORS[claim.benefit](context, claim.facts)
    _apply_ceiling(plan, usage, assessment)
    payable = assessment.payable_fen
    if payable == 0 and not assessment.reasons:
        assessment.refuse(ReasonCode.NOTHING_PAYABLE, "the facts give no payable amount")
    assessment.lines.append(Line(LineKind.PAYABLE, "payable", f"payable {yuan(payable)}", payable))
    delta = UsageDelta(
        benefit=claim.benefit,
        event_ref=claim.event.ref,
        paid_fen=payable,
        hospital_days=assessment.hospital_days,
        hospital_dates=assessment.hospital_dates,
        disability_grade=assessment.disability_grade,
        absorbed_condolence_fen=assessment.absorbed_condolence_fen,
        died_on=claim.facts.died_on if isinstance(claim.facts, DeathFacts) else None,
    )
    return Decision(
        plan_code=plan.code,
        plan_version=plan.version,
        benefit=claim.benefit,
        outcome=Outcome.APPROVED if payable > 0 else Outcome.REJECTED,
        payable_fen=payable,
        lines=tuple(assessment.lines),
        reasons=tuple(assessment.reasons),
        usage=delta if payable else None,
        period_starts_on=period.starts_on,
    )


def _apply_ceiling(plan: Plan, usage: Usage, assessment: Assessment) -> None:
    ceiling = plan.ceiling_fen.value
    remaining = max(0, ceiling - usage.total_paid_fen)
    if assessment.payable_fen > remaining:
        assessment.reduce_to(
            remaining,
            "ceiling",
            f"at most {yuan(ceiling)} a period over all benefits; "
            f"{yuan(usage.total_paid_fen)} already paid",
            "ceiling_fen",
        )
        assessment.refuse(
            ReasonCode.CEILING_REACHED, f"the period's ceiling leaves {yuan(remaining)}"
        )


def decide_all(
    plan: Plan,
    claims: Iterable[ClaimFacts],
    cover: MemberCover,
    usage_by_period: Mapping[date, Usage] | None = None,
) -> tuple[list[Decision], dict[date, Usage]]:
    """Decide claims in order, each seeing what the ones before it paid (a paid death, too)."""
    usage = dict(usage_by_period or {})
    decisions = []
    for claim in claims:
        decision = decide(plan, claim, cover, usage)
        if decision.usage is not None and decision.period_starts_on is not None:
            start = decision.period_starts_on
            usage[start] = usage.get(start, Usage()).plus(decision.usage)
        decisions.append(decision)
    return decisions, usage
