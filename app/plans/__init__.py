"""The plan book of this process: the versions shipped in this package, and the operator's.

Each TOML file is one version of one plan (`code`, `version`, `effective_from`..`effective_to`).
The package ships the versions of a release; `MUTUALAID_PLANS_DIR` adds the operator's, so next
year's version is installed without a release. The book refuses two versions of one code in force
on the same day and a (code, version) given twice (`app.rules.plan_book`), with one exception: a
file in the operator's directory may end a shipped version earlier, when it repeats that version
with nothing changed but an earlier `effective_to` (so the next version can take over from a
date). A process loads its book once, at start (`create_app`, the commands); use cases then ask
for a version by the day cover starts (`for_payment_on`, `in_force`) or by the name a record
keeps (`of_record`).
"""

from __future__ import annotations

import dataclasses
import tomllib
from datetime import date
from functools import lru_cache
from importlib import resources
from pathlib import Path

from app.rules.plan import Plan, PlanError, parse_plan
from app.rules.plan_book import PlanBook

DEFAULT_PLAN_CODE = "shanghai-new-employment-e"

__all__ = [
    "DEFAULT_PLAN_CODE",
    "MissingPlanVersion",
    "PlanBook",
    "book",
    "in_force",
    "install",
    "load",
    "of_record",
    "parse_plan_text",
    "shipped_book",
    "version",
    "versions",
]


class MissingPlanVersion(LookupError):
    """A record names a plan version this process does not have: its file was removed from the
    package or the operator's directory. Broken state, not a bad request."""

    def __init__(self, code: str, version: str) -> None:
        super().__init__(f"plan {code} version {version} is on record but not installed")


def parse_plan_text(text: str, source: str = "<plan>") -> Plan:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PlanError(source, f"not valid TOML: {exc}") from exc
    return parse_plan(data)


def _parsed(text: str, source: str) -> Plan:
    try:
        return parse_plan_text(text, source)
    except PlanError as exc:
        if exc.key == source:
            raise
        raise PlanError(source, str(exc)) from exc


def _shipped() -> list[Plan]:
    return [
        _parsed(entry.read_text(encoding="utf-8"), entry.name)
        for entry in sorted(resources.files(__package__).iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".toml")
    ]


def _installed(directory: Path) -> list[Plan]:
    if not directory.is_dir():
        raise PlanError("MUTUALAID_PLANS_DIR", f"{directory} is not a directory")
    return [
        _parsed(path.read_text(encoding="utf-8"), path.name)
        for path in sorted(directory.glob("*.toml"))
    ]


def _ending(shipped: Plan, given: Plan) -> bool:
    """`given` repeats the shipped version with only an earlier (or the same) last day."""
    return (
        given.effective_to.value <= shipped.effective_to.value
        and dataclasses.replace(shipped, effective_to=given.effective_to) == given
    )


def _merged(shipped: list[Plan], installed: list[Plan]) -> list[Plan]:
    by_name = {(p.code, p.version): p for p in shipped}
    ended: set[tuple[str, str]] = set()
    for plan in installed:
        name = (plan.code, plan.version)
        original = by_name.get(name)
        if original is None or name in ended:
            continue  # a new version (or a second copy, which the book refuses)
        if not _ending(original, plan):
            raise PlanError(
                "version",
                f"{plan.code} version {plan.version} is shipped; the plans directory may end it "
                "earlier (effective_to) but not change its terms",
            )
        ended.add(name)
    return [p for p in shipped if (p.code, p.version) not in ended] + installed


def load(directory: Path | None = None) -> PlanBook:
    """The book of the shipped versions and, when given, those in `directory` (`*.toml`)."""
    if directory is None:
        return shipped_book()
    return PlanBook.of(_merged(_shipped(), _installed(directory)))


@lru_cache(maxsize=1)
def shipped_book() -> PlanBook:
    """The versions in this package alone (read once per process)."""
    return PlanBook.of(_shipped())


_book: PlanBook | None = None


def install(plan_book: PlanBook) -> PlanBook:
    """Make `plan_book` this process's plan book; returns the one it replaces."""
    global _book
    previous = book()
    _book = plan_book
    return previous


def book() -> PlanBook:
    """This process's plan book (the shipped versions until a book is installed)."""
    return _book if _book is not None else shipped_book()


def versions(code: str) -> tuple[Plan, ...]:
    return book().versions(code)


def version(code: str, name: str) -> Plan | None:
    return book().version(code, name)


def in_force(code: str, day: date) -> Plan | None:
    return book().in_force(code, day)


def of_record(code: str, name: str) -> Plan:
    """The version a stored row names (a period, an application, a batch): always installed,
    since versions are only ever added or ended, never removed."""
    plan = book().version(code, name)
    if plan is None:
        raise MissingPlanVersion(code, name)
    return plan
