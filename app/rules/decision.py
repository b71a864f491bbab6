"""Decisions that explain themselves, and the usage they consume.

A decision is a value, refusal included: `payable_fen` with the `lines` that produced it (basis,
gross, each reduction with the plan key behind it, payable) and the `reasons` for anything not
paid. `Usage` is what has been paid so far in one member's period; it is an input, so the same
code serves quotes, adjudication and replays, and it is all the state there is: deciding claims
one call at a time or many in one call gives the same results.

Reason codes are the design's (section 5) plus a few that name a refusal more exactly:
`event_kind_not_covered`, `already_paid_for_event`, `no_payable_days`, `nothing_payable`,
`age_limit_reached` (cover ended at the age limit), and `rejected_on_review` for an examiner's
refusal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from types import MappingProxyType

from app.rules.vocabulary import ACCIDENT_CONDOLENCE, ACCIDENTAL_DISABILITY

_EMPTY: Mapping[str, int] = MappingProxyType({})


class LineKind(StrEnum):
    BASIS = "basis"
    GROSS = "gross"
    REDUCTION = "reduction"
    PAYABLE = "payable"


class ReasonCode(StrEnum):
    NO_ACTIVE_COVERAGE = "no_active_coverage"
    WAITING_PERIOD = "waiting_period"
    CLAIM_DEADLINE_PASSED = "claim_deadline_passed"
    BENEFIT_LIMIT_REACHED = "benefit_limit_reached"
    CONDOLENCE_CAP_REACHED = "condolence_cap_reached"
    CEILING_REACHED = "ceiling_reached"
    DISEASE_NOT_COVERED = "disease_not_covered"
    DISABILITY_GRADE_REACHED = "disability_grade_reached"
    COVER_ENDED_BY_DEATH = "cover_ended_by_death"
    # Cover ended the day before the member's `under_age` birthday (plans whose cover does not
    # continue past the age limit).
    AGE_LIMIT_REACHED = "age_limit_reached"
    EVENT_KIND_NOT_COVERED = "event_kind_not_covered"
    ALREADY_PAID_FOR_EVENT = "already_paid_for_event"
    NO_PAYABLE_DAYS = "no_payable_days"
    NOTHING_PAYABLE = "nothing_payable"
    DUPLICATE_CLAIM = "duplicate_claim"
    REJECTED_ON_REVIEW = "rejected_on_review"


class Outcome(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Line:
    kind: LineKind
    code: str
    text: str
    amount_fen: int
    rule: str | None = None


@dataclass(frozen=True, slots=True)
class Reason:
    code: ReasonCode
    detail: str


@dataclass(frozen=True, slots=True)
class EventUsage:
    """What one event (one accident, one illness) has been paid, by benefit."""

    paid_fen: Mapping[str, int] = field(default_factory=lambda: _EMPTY)
    disability_grade: int | None = None

    def paid(self, benefit: str) -> int:
        return self.paid_fen.get(benefit, 0)


@dataclass(frozen=True, slots=True)
class UsageDelta:
    """What an approved decision adds to the period's usage.

    `absorbed_condolence_fen`: a condolence already paid for this accident that this payment
    deducted. It stops counting as condolence (against the ¥6,000 cap) and counts as part of
    this benefit instead; the total paid does not change.
    """

    benefit: str
    event_ref: str
    paid_fen: int
    hospital_days: int = 0
    hospital_dates: frozenset[date] = frozenset()
    disability_grade: int | None = None
    absorbed_condolence_fen: int = 0
    died_on: date | None = None


@dataclass(frozen=True, slots=True)
class Usage:
    """Usage of one member's period so far."""

    paid_fen: Mapping[str, int] = field(default_factory=lambda: _EMPTY)
    payments: Mapping[str, int] = field(default_factory=lambda: _EMPTY)
    hospital_days: int = 0
    hospital_dates: frozenset[date] = frozenset()
    events: Mapping[str, EventUsage] = field(default_factory=dict)
    died_on: date | None = None  # a death benefit paid in this period: cover ends then

    @property
    def total_paid_fen(self) -> int:
        return sum(self.paid_fen.values())

    def paid(self, benefit: str) -> int:
        return self.paid_fen.get(benefit, 0)

    def payment_count(self, benefit: str) -> int:
        return self.payments.get(benefit, 0)

    def event(self, ref: str) -> EventUsage:
        return self.events.get(ref) or EventUsage()

    def plus(self, delta: UsageDelta) -> Usage:
        """The usage after an approved decision (a zero payment changes nothing)."""
        if delta.paid_fen == 0 and delta.hospital_days == 0:
            return self
        event = self.event(delta.event_ref)
        grade = event.disability_grade
        if delta.benefit == ACCIDENTAL_DISABILITY and delta.disability_grade is not None:
            grade = delta.disability_grade if grade is None else min(grade, delta.disability_grade)
        moved = delta.absorbed_condolence_fen
        event_paid = _add(event.paid_fen, delta.benefit, delta.paid_fen + moved)
        paid = _add(self.paid_fen, delta.benefit, delta.paid_fen + moved)
        if moved:
            event_paid = _add(event_paid, ACCIDENT_CONDOLENCE, -moved)
            paid = _add(paid, ACCIDENT_CONDOLENCE, -moved)
        return Usage(
            paid_fen=paid,
            payments=_add(self.payments, delta.benefit, 1 if delta.paid_fen > 0 else 0),
            hospital_days=self.hospital_days + delta.hospital_days,
            hospital_dates=self.hospital_dates | delta.hospital_dates,
            died_on=min(d for d in (self.died_on, delta.died_on) if d is not None)
            if self.died_on or delta.died_on
            else None,
            events={
                **self.events,
                delta.event_ref: replace(event, paid_fen=event_paid, disability_grade=grade),
            },
        )


def _add(counts: Mapping[str, int], key: str, amount: int) -> Mapping[str, int]:
    return MappingProxyType({**counts, key: counts.get(key, 0) + amount})


@dataclass(frozen=True, slots=True)
class Decision:
    plan_code: str
    plan_version: str
    benefit: str
    outcome: Outcome
    payable_fen: int
    lines: tuple[Line, ...]
    reasons: tuple[Reason, ...]
    usage: UsageDelta | None
    period_starts_on: date | None = None

    @property
    def approved(self) -> bool:
        return self.outcome is Outcome.APPROVED
