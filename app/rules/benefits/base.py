"""What every benefit calculator receives and returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from app.rules.coverage import CoveragePeriod
from app.rules.decision import Line, LineKind, Reason, ReasonCode, Usage
from app.rules.facts import Event, Facts
from app.rules.money import yuan
from app.rules.plan import BenefitTerms, Plan


@dataclass(frozen=True, slots=True)
class BenefitContext:
    plan: Plan
    terms: BenefitTerms
    event: Event
    period: CoveragePeriod
    usage: Usage
    cover_until: date  # last day of cover without a gap from `period` on (renewals continue it)
    paid_hospital_dates: frozenset[date] = frozenset()  # in every period, not only this one
    # The member's date of death, when recorded: no day of a stay after it counts.
    died_on: date | None = None

    def rule(self, param: str) -> str:
        """The plan key behind a number, cited on the line it produced."""
        return f"benefits.{self.terms.code}.{param}"


@dataclass(slots=True)
class Assessment:
    """A benefit's own answer, before the ceiling is applied."""

    payable_fen: int = 0
    lines: list[Line] = field(default_factory=list)
    reasons: list[Reason] = field(default_factory=list)
    hospital_days: int = 0
    hospital_dates: frozenset[date] = frozenset()
    disability_grade: int | None = None
    absorbed_condolence_fen: int = 0

    def basis(self, code: str, text: str, amount_fen: int, rule: str | None = None) -> None:
        self.lines.append(Line(LineKind.BASIS, code, text, amount_fen, rule))

    def gross(self, amount_fen: int, text: str = "gross amount") -> None:
        self.payable_fen = amount_fen
        self.lines.append(Line(LineKind.GROSS, "gross", f"{text}: {yuan(amount_fen)}", amount_fen))

    def reduce_to(self, amount_fen: int, code: str, text: str, rule: str | None = None) -> None:
        """Lower the payable amount, recording by how much and which rule did it."""
        cut = self.payable_fen - amount_fen
        if cut > 0:
            self.lines.append(Line(LineKind.REDUCTION, code, text, -cut, rule))
            self.payable_fen = amount_fen

    def refuse(self, code: ReasonCode, detail: str) -> None:
        self.reasons.append(Reason(code, detail))


class BenefitCalculator(Protocol):
    def __call__(self, context: BenefitContext, facts: Facts) -> Assessment: ...
