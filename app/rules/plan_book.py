"""The plan book: every version of every plan, and which version applies when.

A plan code names a plan; each version of it is one plan file with its own terms and its own
`effective_from`..`effective_to` (inclusive). Two versions of one code never overlap, so a day has
at most one version in force. A new application takes the version in force on the first day its
cover could start (`for_payment_on`); a period keeps that version for good, and a claim is decided
by the version of the period its event falls in, looked up by name (`version`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from itertools import pairwise

from app.rules.coverage import CoveragePeriod, period_for_payment
from app.rules.plan import Plan
from app.rules.plan_values import PlanError


@dataclass(frozen=True)
class PlanBook:
    # Each code's versions, oldest first.
    by_code: Mapping[str, tuple[Plan, ...]]

    @classmethod
    def of(cls, plans: Iterable[Plan]) -> PlanBook:
        """The book of these versions; `PlanError` for a (code, version) given twice, or two
        versions of one code in force on the same day."""
        by_code: dict[str, list[Plan]] = {}
        for plan in plans:
            versions = by_code.setdefault(plan.code, [])
            if any(v.version == plan.version for v in versions):
                raise PlanError("version", f"{plan.code} version {plan.version} is given twice")
            versions.append(plan)
        for code, versions in by_code.items():
            versions.sort(key=lambda p: p.effective_from.value)
            # Sorted by first day, an overlap anywhere shows between neighbours.
            for earlier, later in pairwise(versions):
                if later.effective_from.value <= earlier.effective_to.value:
                    raise PlanError(
                        "effective_from",
                        f"{code} version {later.version} starts on "
                        f"{later.effective_from.value}, while version {earlier.version} is in "
                        f"force until {earlier.effective_to.value}",
                    )
        return cls({code: tuple(versions) for code, versions in sorted(by_code.items())})

    def codes(self) -> tuple[str, ...]:
        return tuple(self.by_code)

    def versions(self, code: str) -> tuple[Plan, ...]:
        return self.by_code.get(code, ())

    def version(self, code: str, version: str) -> Plan | None:
        return next((p for p in self.versions(code) if p.version == version), None)

    def in_force(self, code: str, day: date) -> Plan | None:
        return next((p for p in self.versions(code) if in_force_on(p, day)), None)

    def for_payment_on(
        self, code: str, paid_on: date, latest: CoveragePeriod | None = None
    ) -> Plan | None:
        """The version a premium paid on `paid_on` buys: the one in force on the first day of
        the period it would buy (the day after payment, or after the latest period for a
        renewal). None when no version is in force then."""
        return next(
            (
                p
                for p in self.versions(code)
                if in_force_on(p, period_for_payment(p, paid_on, latest).starts_on)
            ),
            None,
        )

    def shown_on(self, code: str, day: date) -> Plan | None:
        """The version to show for a code on `day`: the one in force, else the next to come,
        else the last that was; None for an unknown code."""
        versions = self.versions(code)
        return (
            self.in_force(code, day)
            or next((p for p in versions if p.effective_from.value > day), None)
            or (versions[-1] if versions else None)
        )


def in_force_on(plan: Plan, day: date) -> bool:
    return plan.effective_from.value <= day <= plan.effective_to.value
