"""意外伤害慰问金: ¥500 for each accident that reaches no disability grade, ¥6,000 a period.

An accident later graded for disability gets no condolence; one already paid is deducted from
the disability payment (see accidental_disability).
"""

from __future__ import annotations

from app.rules.benefits.base import Assessment, BenefitContext
from app.rules.decision import ReasonCode
from app.rules.facts import CondolenceFacts, Facts, InvalidFacts
from app.rules.money import yuan
from app.rules.vocabulary import ACCIDENT_CONDOLENCE, ACCIDENTAL_DEATH, ACCIDENTAL_DISABILITY


def accident_condolence(context: BenefitContext, facts: Facts) -> Assessment:
    if not isinstance(facts, CondolenceFacts):
        raise InvalidFacts("facts", "accident_condolence takes no facts")
    terms, result = context.terms, Assessment()
    amount = terms.int_param("amount_per_event_fen")
    result.basis(
        "per_event", f"{yuan(amount)} per accident", amount, context.rule("amount_per_event_fen")
    )
    result.gross(amount)
    event = context.usage.event(context.event.ref)
    if event.disability_grade is not None or event.paid(ACCIDENTAL_DISABILITY) > 0:
        result.reduce_to(0, "disability_graded", "this accident reached a disability grade")
        result.refuse(
            ReasonCode.DISABILITY_GRADE_REACHED,
            "an accident with a disability grade gets no condolence",
        )
        return result
    if event.paid(ACCIDENT_CONDOLENCE) > 0 or event.paid(ACCIDENTAL_DEATH) > 0:
        result.reduce_to(0, "already_paid", "this accident was already paid")
        result.refuse(ReasonCode.ALREADY_PAID_FOR_EVENT, "one condolence per accident")
        return result
    cap = terms.int_param("max_per_period_fen")
    remaining = max(0, cap - context.usage.paid(ACCIDENT_CONDOLENCE))
    if amount > remaining:
        result.reduce_to(
            remaining,
            "condolence_cap",
            f"at most {yuan(cap)} of condolence a period; {yuan(cap - remaining)} already paid",
            context.rule("max_per_period_fen"),
        )
        result.refuse(
            ReasonCode.CONDOLENCE_CAP_REACHED,
            f"the period's {yuan(cap)} condolence cap leaves {yuan(remaining)}",
        )
    return result
