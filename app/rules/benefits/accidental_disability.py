"""意外伤残: the disability sum times the JR/T 0083-2013 ratio of the grade.

Several injuries from one accident: the most severe grade counts; when two or more injuries share
it, it is raised by one grade, never above grade 1. A later, worse grade for the same accident
pays only the difference; a condolence or death benefit already paid for the accident is
deducted.

Judgment stays with the examiner: JR/T 0083's grading by day 180 after the accident, and a tie
that only shows when injuries assessed at different times are put together, are for the grades
the examiner enters (every injury of the accident, as graded now).
"""

from __future__ import annotations

from app.rules.benefits.base import Assessment, BenefitContext
from app.rules.decision import ReasonCode
from app.rules.facts import DisabilityFacts, Facts, InvalidFacts
from app.rules.money import share_of, yuan
from app.rules.vocabulary import ACCIDENT_CONDOLENCE, ACCIDENTAL_DEATH, ACCIDENTAL_DISABILITY

MOST_SEVERE_GRADE = 1


def effective_grade(injury_grades: tuple[int, ...], raise_on_ties: bool) -> int:
    """JR/T 0083: the worst grade; ties raise it by one grade, never above grade 1."""
    worst = min(injury_grades)
    if raise_on_ties and injury_grades.count(worst) >= 2:
        return max(MOST_SEVERE_GRADE, worst - 1)
    return worst


def accidental_disability(context: BenefitContext, facts: Facts) -> Assessment:
    if not isinstance(facts, DisabilityFacts):
        raise InvalidFacts("facts", "accidental_disability needs assessed_on and injuries")
    terms, result = context.terms, Assessment()
    grade = effective_grade(facts.injury_grades, terms.bool_param("raise_one_grade_on_ties"))
    percent = terms.int_list_param("grade_percents")[grade - 1]
    amount = terms.int_param("amount_fen")
    worst = min(facts.injury_grades)
    raised = f" (grade {worst} on several injuries, raised one grade)" if grade != worst else ""
    result.basis("sum", f"disability sum {yuan(amount)}", amount, context.rule("amount_fen"))
    result.basis(
        "grade", f"grade {grade}{raised}: {percent}%", percent, context.rule("grade_percents")
    )
    result.gross(share_of(amount, percent), f"grade {grade} at {percent}%")
    result.disability_grade = grade
    event = context.usage.event(context.event.ref)
    earlier = event.paid(ACCIDENTAL_DISABILITY)
    if earlier:
        result.reduce_to(
            max(0, result.payable_fen - earlier),
            "disability_already_paid",
            f"less {yuan(earlier)} already paid for grade {event.disability_grade} "
            "of this accident",
        )
    condolence = event.paid(ACCIDENT_CONDOLENCE)
    if condolence and terms.bool_param("less_condolence_paid_for_same_accident"):
        result.absorbed_condolence_fen = min(condolence, result.payable_fen)
        result.reduce_to(
            max(0, result.payable_fen - condolence),
            "condolence_already_paid",
            f"less the {yuan(condolence)} condolence already paid for this accident",
            context.rule("less_condolence_paid_for_same_accident"),
        )
    death = event.paid(ACCIDENTAL_DEATH)
    if death:
        # Disability and death from one accident are never both paid in full, in either order.
        result.reduce_to(
            max(0, result.payable_fen - death),
            "death_already_paid",
            f"less the {yuan(death)} death benefit already paid for this accident",
        )
    if result.payable_fen == 0:
        result.refuse(
            ReasonCode.ALREADY_PAID_FOR_EVENT,
            "earlier payments for this accident reach this grade's amount",
        )
    return result
