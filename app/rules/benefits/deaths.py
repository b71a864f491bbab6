"""疾病身故 and 意外身故: lump sums on death, once; a death ends the member's cover.

Disability and death from the same accident are not both paid in full: the accidental death
benefit is reduced by the disability (and condolence) already paid for that accident.
"""

from __future__ import annotations

from app.rules.benefits.base import Assessment, BenefitContext
from app.rules.decision import ReasonCode
from app.rules.facts import DeathFacts, Facts, InvalidFacts
from app.rules.money import yuan
from app.rules.vocabulary import ACCIDENT_CONDOLENCE, ACCIDENTAL_DISABILITY


def _death(context: BenefitContext, facts: Facts) -> Assessment:
    if not isinstance(facts, DeathFacts):
        raise InvalidFacts("facts", f"{context.terms.code} needs died_on")
    result = Assessment()
    amount = context.terms.int_param("amount_fen")
    result.basis("sum", f"death benefit {yuan(amount)}", amount, context.rule("amount_fen"))
    result.gross(amount)
    return result


def illness_death(context: BenefitContext, facts: Facts) -> Assessment:
    return _death(context, facts)


def accidental_death(context: BenefitContext, facts: Facts) -> Assessment:
    result = _death(context, facts)
    if result.payable_fen == 0:
        return result
    event = context.usage.event(context.event.ref)
    deductions = []
    if context.terms.bool_param("less_disability_paid_for_same_accident"):
        deductions.append(
            ("disability", ACCIDENTAL_DISABILITY, "less_disability_paid_for_same_accident")
        )
    if context.terms.bool_param("less_condolence_paid_for_same_accident"):
        deductions.append(
            ("condolence", ACCIDENT_CONDOLENCE, "less_condolence_paid_for_same_accident")
        )
    for label, benefit, param in deductions:
        paid = event.paid(benefit)
        if paid and benefit == ACCIDENT_CONDOLENCE:
            result.absorbed_condolence_fen = min(paid, result.payable_fen)
        if paid:
            result.reduce_to(
                max(0, result.payable_fen - paid),
                f"{label}_already_paid",
                f"less {yuan(paid)} {label} already paid for this accident",
                context.rule(param),
            )
    if result.payable_fen == 0:
        result.refuse(
            ReasonCode.ALREADY_PAID_FOR_EVENT,
            "earlier payments for this accident reach the death benefit",
        )
    return result
