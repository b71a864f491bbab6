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


@dataclass(frozen=True, slots=True)
class Claim:
    benefit: str
    event: Event
    facts: Facts
    filed_on: date
