"""The facts a claim states, per benefit (shared/design.md section 5), and the event behind it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


class InvalidFacts(ValueError):
    """Facts that contradict themselves: a broken request, not a refusal."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        super().__init__(f"{field}: {problem}")


@dataclass(frozen=True, slots=True)
class Event:
    """`ref` is the filer's id for the event, shared by every claim from the same accident."""

    kind: str
    occurred_on: date
    ref: str


@dataclass(frozen=True, slots=True)
class HospitalStay:
    admitted_on: date
    discharged_on: date

    def __post_init__(self) -> None:
        if self.discharged_on < self.admitted_on:
            raise InvalidFacts("discharged_on", "is before admitted_on")


@dataclass(frozen=True, slots=True)
class CriticalIllnessFacts:
    diagnosed_on: date
    disease: str
    severity: str


@dataclass(frozen=True, slots=True)
class MedicalSubsidyFacts:
    admitted_on: date
    discharged_on: date
    disease: str
    eligible_cost_fen: int

    def __post_init__(self) -> None:
        if self.discharged_on < self.admitted_on:
            raise InvalidFacts("discharged_on", "is before admitted_on")
        if self.eligible_cost_fen < 0:
            raise InvalidFacts("eligible_cost_fen", "is negative")


@dataclass(frozen=True, slots=True)
class DeathFacts:
    died_on: date


@dataclass(frozen=True, slots=True)
class DisabilityFacts:
    """Each injury's JR/T 0083 grade, 1 (most severe) to 10."""

    assessed_on: date
    injury_grades: tuple[int, ...]

    def __post_init__(self) -> None:
        if not self.injury_grades:
            raise InvalidFacts("injuries", "at least one graded injury is needed")
        if any(not 1 <= grade <= 10 for grade in self.injury_grades):
            raise InvalidFacts("injuries", "grades run from 1 to 10")


@dataclass(frozen=True, slots=True)
class CondolenceFacts:
    """The condolence payment needs no facts beyond the accident itself."""


Facts = (
    HospitalStay
    | CriticalIllnessFacts
    | MedicalSubsidyFacts
    | DeathFacts
    | DisabilityFacts
    | CondolenceFacts
)


def fact_date(facts: Facts) -> date | None:
    """The date the facts turn on: admission, diagnosis, death or assessment."""
    if isinstance(facts, HospitalStay | MedicalSubsidyFacts):
        return facts.admitted_on
    if isinstance(facts, CriticalIllnessFacts):
        return facts.diagnosed_on
    if isinstance(facts, DeathFacts):
        return facts.died_on
    if isinstance(facts, DisabilityFacts):
        return facts.assessed_on
    return None


def known_on(event: Event, facts: Facts) -> date:
    """When the claimable event was known, from which the claim deadline runs: discharge for a
    stay, diagnosis, death, assessment; the accident itself for a condolence."""
    if isinstance(facts, HospitalStay | MedicalSubsidyFacts):
        return facts.discharged_on
    return fact_date(facts) or event.occurred_on


@dataclass(frozen=True, slots=True)
class ClaimFacts:
    """Everything a claim states: the benefit, the event behind it, the benefit's own facts, and
    the day it was filed (claim deadlines count to it)."""

    benefit: str
    event: Event
    facts: Facts
    filed_on: date

    def __post_init__(self) -> None:
        # A stay, diagnosis, death or assessment dated before the event it comes from would let
        # a claim slip past cover and waiting-period checks made on the event date.
        when = fact_date(self.facts)
        if when is not None and when < self.event.occurred_on:
            raise InvalidFacts("facts", f"{when} is before the event ({self.event.occurred_on})")
