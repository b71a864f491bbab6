"""From the API's facts to the rules core's, benefit by benefit.

The body's `facts` is one object whose fields depend on the benefit; a field the benefit needs
and is missing, or one it does not take, is a 422 naming the field, before anything is stored.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from app.claims.schemas import ClaimIn, EventIn, FactsIn
from app.core.errors import Unprocessable
from app.rules import facts as rules
from app.rules.vocabulary import (
    ACCIDENT_CONDOLENCE,
    ACCIDENTAL_DEATH,
    ACCIDENTAL_DISABILITY,
    CRITICAL_ILLNESS,
    CRITICAL_ILLNESS_MEDICAL,
    HOSPITAL_ALLOWANCE,
    ILLNESS_DEATH,
)

FIELDS: dict[str, tuple[str, ...]] = {
    HOSPITAL_ALLOWANCE: ("admitted_on", "discharged_on"),
    CRITICAL_ILLNESS: ("diagnosed_on", "disease", "severity"),
    CRITICAL_ILLNESS_MEDICAL: ("admitted_on", "discharged_on", "disease", "eligible_cost_fen"),
    ILLNESS_DEATH: ("died_on",),
    ACCIDENTAL_DEATH: ("died_on",),
    ACCIDENTAL_DISABILITY: ("assessed_on", "injuries"),
    ACCIDENT_CONDOLENCE: (),
}


def _problem(code: str, field: str, message: str) -> dict[str, str]:
    return {"code": code, "field": field, "location": "body", "message": message}


def invalid(errors: list[dict[str, str]]) -> Unprocessable:
    return Unprocessable(errors[0]["message"], code="invalid_facts", errors=errors)


def check_fields(benefit: str, facts: FactsIn) -> None:
    wanted = FIELDS[benefit]
    given = {name for name, value in facts if value is not None}
    errors = [
        _problem("missing", f"facts.{name}", f"{benefit} needs {name}")
        for name in wanted
        if name not in given
    ] + [
        _problem("not_expected", f"facts.{name}", f"{benefit} does not take {name}")
        for name in sorted(given - set(wanted))
    ]
    if errors:
        raise invalid(errors)


def stored(facts: FactsIn) -> dict[str, Any]:
    """The facts as JSON for the claim and decision records (only the fields given)."""
    return facts.model_dump(mode="json", exclude_none=True)


def to_rules(benefit: str, facts: FactsIn) -> rules.Facts:
    check_fields(benefit, facts)
    f: Any = facts  # every field this benefit needs was checked above
    if benefit == HOSPITAL_ALLOWANCE:
        return rules.HospitalStay(f.admitted_on, f.discharged_on)
    if benefit == CRITICAL_ILLNESS:
        return rules.CriticalIllnessFacts(f.diagnosed_on, f.disease, f.severity)
    if benefit == CRITICAL_ILLNESS_MEDICAL:
        return rules.MedicalSubsidyFacts(
            f.admitted_on, f.discharged_on, f.disease, f.eligible_cost_fen
        )
    if benefit in (ILLNESS_DEATH, ACCIDENTAL_DEATH):
        return rules.DeathFacts(f.died_on)
    if benefit == ACCIDENTAL_DISABILITY:
        return rules.DisabilityFacts(f.assessed_on, tuple(i.grade for i in f.injuries))
    return rules.CondolenceFacts()


def event_of(event: EventIn) -> rules.Event:
    return rules.Event(event.kind, event.occurred_on, event.ref)


# No claim is about anything before this day; with "not after today" it keeps date arithmetic
# (deadlines, days of a stay) well inside the calendar.
EARLIEST_DAY = date(1900, 1, 1)


def _check_dates(event: EventIn, facts: FactsIn, today: date) -> None:
    dated = [("event.occurred_on", event.occurred_on)] + [
        (f"facts.{name}", value) for name, value in facts if isinstance(value, date)
    ]
    errors = [
        _problem("date_in_future", field, f"{field} is after today ({today})")
        for field, value in dated
        if value > today
    ] + [
        _problem("date_out_of_range", field, f"{field} is before {EARLIEST_DAY}")
        for field, value in dated
        if value < EARLIEST_DAY
    ]
    if errors:
        raise Unprocessable(errors[0]["message"], code=errors[0]["code"], errors=errors)


def rules_claim(body: ClaimIn, facts: FactsIn, filed_on: date, today: date) -> rules.ClaimFacts:
    """The rules core's claim. Facts that contradict themselves (discharge before admission)
    or speak of days still to come are a 422: only what has happened can be claimed."""
    _check_dates(body.event, facts, today)
    try:
        return rules.ClaimFacts(
            body.benefit, event_of(body.event), to_rules(body.benefit, facts), filed_on
        )
    except rules.InvalidFacts as exc:
        field = "facts" if exc.field == "facts" else f"facts.{exc.field}"
        raise invalid([_problem("invalid", field, str(exc))]) from exc
