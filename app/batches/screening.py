"""What a batch row can be judged on before anything is looked up: its own values and the plan.

Pure functions over one row; the codes are the same as individual enrolment's where the check is
the same (`invalid_id_number`, `age_limit`, `work_city_not_covered`, ...), plus a few for values a
form would have stopped (`missing_name`, `invalid_phone`, `name_too_long`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from app.core.names import name_problem
from app.rules.eligibility import DEFAULT_WORK_CITY, Applicant, check_applicant
from app.rules.id_numbers import normalise
from app.rules.plan import Plan

# A row as read from the file: column -> value (None where the file has no such column).
Row = dict[str, str | None]
WRONG_CELL_COUNT = "_cells"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_PHONE = re.compile(r"^(\+?86)?1[3-9][0-9]{9}$")
_MAX_LENGTHS = {
    "id_number": 32,
    "name": 50,
    "phone": 20,
    "platform_code": 64,
    "platform_worker_id": 128,
    "work_type": 32,
    "union_member_number": 64,
    "work_city": 64,
}
_REQUIRED = (
    "id_number",
    "name",
    "phone",
    "platform_code",
    "platform_worker_id",
    "work_type",
    "union_member_number",
)
_MISSING = tuple((field, f"missing_{field}") for field in _REQUIRED)
_TOO_LONG = tuple((field, limit, f"{field}_too_long") for field, limit in _MAX_LENGTHS.items())


@dataclass(slots=True)  # not frozen: one is made per row, and frozen ones cost 2-3x to make
class Candidate:
    """A row that passed every check made from the row itself."""

    row_number: int
    ref: str | None
    id_number: str
    name: str
    phone: str
    platform_code: str
    platform_worker_id: str
    work_type: str
    work_city: str
    union_member_number: str


def screen(
    plan: Plan, platform_work_types: dict[str, list[str]], number: int, row: Row, applied_on: date
) -> Candidate | list[str]:
    """Row `number` as a candidate for enrolment, or the codes that reject it.

    `platform_work_types` maps each enabled platform to the work types it registers.
    """
    values, codes = _checked(plan, platform_work_types, row, applied_on)
    return codes if codes else _candidate(number, row, values)


def problems(
    plan: Plan, platform_work_types: dict[str, list[str]], row: Row, applied_on: date
) -> list[str]:
    """The codes `screen` rejects the row with; none when it passes."""
    return _checked(plan, platform_work_types, row, applied_on)[1]


def _checked(
    plan: Plan, platform_work_types: dict[str, list[str]], row: Row, applied_on: date
) -> tuple[dict[str, str], list[str]]:
    values, codes = _values(row)
    # The plan's checks need the ID number, platform and work type; every problem is reported.
    if values.get("id_number") and values.get("platform_code") and values.get("work_type"):
        codes += _plan_codes(plan, platform_work_types, values, applied_on)
    return values, list(dict.fromkeys(codes)) if codes else codes


def passed(number: int, row: Row) -> Candidate:
    """The candidate of a row `screen` has passed under the same plan, platforms and date (its
    values are then present, short enough and free of control characters)."""
    values = {k: (v or "").strip() for k, v in row.items() if k != WRONG_CELL_COUNT}
    return _candidate(number, row, values)


def _candidate(number: int, row: Row, values: dict[str, str]) -> Candidate:
    return Candidate(
        row_number=number,
        ref=row.get("ref"),
        id_number=normalise(values["id_number"]),
        name=values["name"],
        phone=values["phone"],
        platform_code=values["platform_code"],
        platform_worker_id=values["platform_worker_id"],
        work_type=values["work_type"],
        work_city=values.get("work_city") or DEFAULT_WORK_CITY,
        union_member_number=values["union_member_number"],
    )


def _values(row: Row) -> tuple[dict[str, str], list[str]]:
    """The row's values, trimmed and without control characters, and what is wrong with their
    form: a form would have stopped these."""
    codes: list[str] = []
    if row.get(WRONG_CELL_COUNT):
        codes.append("wrong_column_count")
    values = {k: v.strip() if v else "" for k, v in row.items() if k != WRONG_CELL_COUNT}
    if _CONTROL.search("".join(values.values())):
        codes.append("invalid_characters")
        values = {k: _CONTROL.sub("", v) for k, v in values.items()}
    codes += [code for field, code in _MISSING if not values.get(field)]
    codes += [code for field, limit, code in _TOO_LONG if len(values.get(field, "")) > limit]
    if values.get("phone") and not _PHONE.match(values["phone"]):
        codes.append("invalid_phone")
    if values.get("name") and name_problem(values["name"]):
        codes.append("invalid_name")
    return values, codes


def _plan_codes(
    plan: Plan, platform_work_types: dict[str, list[str]], values: dict[str, str], applied_on: date
) -> list[str]:
    """The plan's eligibility checks, the same as individual enrolment's."""
    platform = values["platform_code"]
    known = platform in platform_work_types
    applicant = Applicant(
        normalise(values["id_number"]),
        values.get("work_city") or DEFAULT_WORK_CITY,
        values["work_type"],
        known,
    )
    codes = [f.code for f in check_applicant(plan, applicant, applied_on)]
    if known and values["work_type"] not in platform_work_types[platform]:
        codes.append("work_type_not_covered")
    return codes
