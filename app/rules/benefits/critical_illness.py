"""重大疾病: a lump sum on diagnosis of a listed disease, once per period.

The list is plan data (the 2020 standard's diseases, plus COVID-19 for this plan). A mild form
pays `mild_percent` of the severe amount (the standard caps mild payouts at 30%). A severe form
diagnosed after a mild one in the same period pays the difference.
"""

from __future__ import annotations

from app.rules.benefits.base import Assessment, BenefitContext
from app.rules.decision import ReasonCode
from app.rules.facts import CriticalIllnessFacts, Facts, InvalidFacts
from app.rules.money import share_of, yuan
from app.rules.vocabulary import MILD


def critical_illness(context: BenefitContext, facts: Facts) -> Assessment:
    if not isinstance(facts, CriticalIllnessFacts):
        raise InvalidFacts("facts", "critical_illness needs diagnosed_on, disease and severity")
    terms, result = context.terms, Assessment()
    disease = context.plan.diseases.get(facts.disease)
    if disease is None or facts.severity not in disease.severities:
        result.refuse(
            ReasonCode.DISEASE_NOT_COVERED,
            f"{facts.disease} ({facts.severity}) is not on the plan's list",
        )
        return result
    amount = terms.int_param("amount_fen")
    result.basis("sum", f"critical illness sum {yuan(amount)}", amount, context.rule("amount_fen"))
    if facts.severity == MILD:
        percent = terms.int_param("mild_percent")
        result.gross(share_of(amount, percent), f"{disease.name}, mild form: {percent}%")
    else:
        result.gross(amount, f"{disease.name}, severe form")
    allowed = terms.int_param("payments_per_period")
    earlier = context.usage.paid(terms.code)
    if context.usage.payment_count(terms.code) >= allowed:
        if result.payable_fen > earlier:
            # A mild form paid first, then the severe form: pay the difference, so the member
            # gets the same whichever diagnosis was filed first.
            result.reduce_to(
                result.payable_fen - earlier,
                "mild_form_already_paid",
                f"less {yuan(earlier)} already paid for a mild form",
            )
        else:
            result.reduce_to(
                0,
                "once_per_period",
                f"paid at most {allowed} time(s) a period",
                context.rule("payments_per_period"),
            )
            result.refuse(ReasonCode.BENEFIT_LIMIT_REACHED, "already paid in this period")
    return result
