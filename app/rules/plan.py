"""The plan as data: a typed, validated view of a plan file.

A plan file (TOML, see `app/plans/`) is parsed by `parse_plan` from the already-decoded mapping;
reading the file is the caller's business, so this module does no I/O. Every parameter is a
`Param` carrying its value and whether the plan's announcement confirms it. Validation fails
with `PlanError` naming the dotted key at fault.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Generic, TypeVar

from app.rules.plan_values import (
    PlanError,
    Reader,
    a_date,
    boolean,
    choice,
    days,
    false_only,
    grade_percents,
    integer,
    text,
    text_list,
)
from app.rules.vocabulary import BENEFIT_ORDER, BENEFITS, EVENT_KINDS, SEVERITIES, WORK_TYPES

__all__ = ["Plan", "PlanError", "parse_plan"]

T = TypeVar("T")
FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class Param(Generic[T]):
    value: T
    confirmed: bool


@dataclass(frozen=True, slots=True)
class Disease:
    code: str
    name: str
    severities: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Eligibility:
    min_age: Param[int]
    under_age: Param[int]
    work_cities: Param[tuple[str, ...]]
    work_types: Param[tuple[str, ...]]
    platform_verification_required: Param[bool]
    hukou_required: Param[bool]
    social_insurance_required: Param[bool]
    orders_window_days: Param[int]
    min_orders_in_window: Param[int]
    # True: a member who reaches `under_age` during a period keeps cover to its end (and cannot
    # renew); false: cover ends the day before that birthday.
    cover_continues_past_age_limit: Param[bool]


@dataclass(frozen=True, slots=True)
class PeriodRule:
    months: Param[int]
    starts_days_after_payment: Param[int]
    renewable: Param[bool]
    renewal_opens_days_before_end: Param[int]
    # A renewal paid this many days after the end still continues cover (no new waiting
    # period); the days between the end and the renewal's first day stay uncovered.
    renewal_grace_days: Param[int]


@dataclass(frozen=True, slots=True)
class Applications:
    valid_days: Param[int]


@dataclass(frozen=True, slots=True)
class Waiting:
    illness_days: Param[int]
    accident_days: Param[int]
    waived_on_continuous_renewal: Param[bool]


@dataclass(frozen=True, slots=True)
class ClaimRules:
    deadline_years: Param[int]
    death_ends_cover: Param[bool]
    # A payout of at least this much is paid only once a second person (a finance client
    # other than the one who decided the claim) has approved it.
    four_eyes_from_fen: Param[int]
    # A claim waiting for documents longer than this expires.
    documents_due_days: Param[int]
    # A refused claim may be appealed once, by its filer, within this many days.
    appeal_days: Param[int]


@dataclass(frozen=True, slots=True)
class BenefitTerms:
    """One benefit's terms: the common ones, and its own parameters by name."""

    code: str
    name: str
    event_kinds: Param[tuple[str, ...]]
    requires_review: Param[bool]
    required_documents: Param[tuple[str, ...]]
    params: Mapping[str, Param[Any]]

    def int_param(self, name: str) -> int:
        value = self.params[name].value
        assert isinstance(value, int)
        return value

    def bool_param(self, name: str) -> bool:
        value = self.params[name].value
        assert isinstance(value, bool)
        return value

    def str_param(self, name: str) -> str:
        value = self.params[name].value
        assert isinstance(value, str)
        return value

    def int_list_param(self, name: str) -> tuple[int, ...]:
        value = self.params[name].value
        assert isinstance(value, tuple)
        return value


@dataclass(frozen=True, slots=True)
class Plan:
    code: str
    version: str
    name: str
    operator: str
    effective_from: Param[date]
    effective_to: Param[date]
    premium_fen: Param[int]
    ceiling_fen: Param[int]
    shares_per_member_per_period: Param[int]
    eligibility: Eligibility
    period: PeriodRule
    applications: Applications
    waiting: Waiting
    claims: ClaimRules
    benefits: Mapping[str, BenefitTerms]
    diseases: Mapping[str, Disease]

    def benefit(self, code: str) -> BenefitTerms:
        return self.benefits[code]


BENEFIT_PARAMS: dict[str, dict[str, Reader]] = {
    "hospital_allowance": {
        "daily_rate_fen": integer(),
        "deductible_days_per_stay": days(),
        "max_days_per_period": days(1),
        "day_count": choice("nights", "inclusive"),
        "max_days_after_period_end": days(),
    },
    "critical_illness": {
        "amount_fen": integer(),
        # 重大疾病保险的疾病定义使用规范 (2020): a mild form pays at most 30% of the severe one.
        "mild_percent": integer(0, 30),
        "payments_per_period": integer(1, 10),
    },
    "critical_illness_medical": {
        "share_percent": integer(0, 100),
        "max_per_period_fen": integer(),
    },
    "illness_death": {
        "amount_fen": integer(),
        "payee": choice("beneficiary", "district_union"),
    },
    "accidental_death": {
        "amount_fen": integer(),
        "less_disability_paid_for_same_accident": boolean,
        "less_condolence_paid_for_same_accident": boolean,
        "payee": choice("beneficiary", "district_union"),
    },
    "accidental_disability": {
        "amount_fen": integer(),
        "grade_percents": grade_percents,
        "raise_one_grade_on_ties": boolean,
        "less_condolence_paid_for_same_accident": boolean,
    },
    "accident_condolence": {
        "amount_per_event_fen": integer(),
        "max_per_period_fen": integer(),
    },
}
assert set(BENEFIT_PARAMS) == set(BENEFITS)


def _table(data: Mapping[str, Any], key: str, path: str) -> Mapping[str, Any]:
    value = data.get(key)
    where = f"{path}.{key}" if path else key
    if not isinstance(value, Mapping):
        raise PlanError(where, "missing table" if value is None else "expected a table")
    return value


def _param(data: Mapping[str, Any], key: str, path: str, read: Reader) -> Param[Any]:
    where = f"{path}.{key}" if path else key
    if key not in data:
        raise PlanError(where, "missing")
    entry = data[key]
    if not isinstance(entry, Mapping) or set(entry) != {"value", "confirmed"}:
        raise PlanError(where, "expected { value = ..., confirmed = true|false }")
    return Param(
        read(entry["value"], f"{where}.value"), boolean(entry["confirmed"], f"{where}.confirmed")
    )


def _reject_unknown(data: Mapping[str, Any], known: set[str], path: str) -> None:
    for key in data:
        if key not in known:
            raise PlanError(f"{path}.{key}" if path else key, "unknown key")


def _params(data: Mapping[str, Any], path: str, readers: Mapping[str, Reader]) -> dict[str, Any]:
    return {name: _param(data, name, path, read) for name, read in readers.items()}


_COMMON_BENEFIT_KEYS = {"name", "event_kinds", "requires_review", "required_documents"}


def _benefit(code: str, data: Mapping[str, Any]) -> BenefitTerms:
    path = f"benefits.{code}"
    own = BENEFIT_PARAMS[code]
    _reject_unknown(data, _COMMON_BENEFIT_KEYS | set(own), path)
    return BenefitTerms(
        code=code,
        name=text(data.get("name"), f"{path}.name"),
        event_kinds=_param(data, "event_kinds", path, text_list(EVENT_KINDS)),
        requires_review=_param(data, "requires_review", path, boolean),
        required_documents=_param(data, "required_documents", path, text_list(non_empty=False)),
        params=_params(data, path, own),
    )


def _diseases(data: object) -> dict[str, Disease]:
    if not isinstance(data, list) or not data:
        raise PlanError("diseases", "expected a non-empty list of [[diseases]] tables")
    diseases: dict[str, Disease] = {}
    for index, entry in enumerate(data):
        path = f"diseases[{index}]"
        if not isinstance(entry, Mapping):
            raise PlanError(path, "expected a table")
        _reject_unknown(entry, {"code", "name", "severities"}, path)
        code = text(entry.get("code"), f"{path}.code")
        if code in diseases:
            raise PlanError(f"{path}.code", f"{code} is listed twice")
        diseases[code] = Disease(
            code=code,
            name=text(entry.get("name"), f"{path}.name"),
            severities=text_list(SEVERITIES)(entry.get("severities"), f"{path}.severities"),
        )
    return diseases


_TOP_LEVEL_KEYS = frozenset(
    {
        "format",
        "code",
        "version",
        "name",
        "operator",
        "effective_from",
        "effective_to",
        "premium_fen",
        "ceiling_fen",
        "shares_per_member_per_period",
        "eligibility",
        "period",
        "waiting",
        "claims",
        "benefits",
        "diseases",
        "applications",
    }
)
_SECTIONS: dict[str, dict[str, Reader]] = {
    "eligibility": {
        "min_age": integer(0, 150),
        "under_age": integer(1, 150),
        "work_cities": text_list(),
        "work_types": text_list(WORK_TYPES),
        "platform_verification_required": boolean,
        "hukou_required": false_only("hukou (the work alone decides)"),
        "social_insurance_required": false_only("social insurance records"),
        "orders_window_days": days(1),
        "min_orders_in_window": integer(0, 10_000),
        "cover_continues_past_age_limit": boolean,
    },
    "period": {
        "months": integer(1, 120),
        "starts_days_after_payment": integer(0, 31),
        "renewable": boolean,
        "renewal_opens_days_before_end": days(),
        "renewal_grace_days": days(),
    },
    "waiting": {
        "illness_days": days(),
        "accident_days": days(),
        "waived_on_continuous_renewal": boolean,
    },
    "claims": {
        "deadline_years": integer(1, 30),
        "death_ends_cover": boolean,
        "four_eyes_from_fen": integer(1),
        "documents_due_days": days(1),
        "appeal_days": days(1),
    },
    "applications": {"valid_days": days(1)},
}


def _check_shape(data: Mapping[str, Any]) -> None:
    """Every table is present and holds only keys this service reads, before any value is read:
    a file with several faults is refused for its shape first, always for the same fault."""
    for name in ("eligibility", "period", "waiting"):
        _table(data, name, "")
    _reject_unknown(
        _table(data, "applications", ""), set(_SECTIONS["applications"]), "applications"
    )
    _table(data, "claims", "")
    benefits = _table(data, "benefits", "")
    _reject_unknown(benefits, set(BENEFITS), "benefits")
    missing = [code for code in BENEFIT_ORDER if code not in benefits]
    if missing:
        raise PlanError(f"benefits.{missing[0]}", "missing table")
    for name in ("eligibility", "period", "waiting", "claims"):
        _reject_unknown(_table(data, name, ""), set(_SECTIONS[name]), name)


def _section(data: Mapping[str, Any], name: str) -> dict[str, Any]:
    """A section's parameters, read by its readers (its shape was checked by `_check_shape`)."""
    return _params(_table(data, name, ""), name, _SECTIONS[name])


def _benefits(data: Mapping[str, Any]) -> dict[str, BenefitTerms]:
    """Every one of the seven benefits, each in its own table (checked by `_check_shape`), in
    the plan file's order: every answer lists them so."""
    benefits = _table(data, "benefits", "")
    return {code: _benefit(code, _table(benefits, code, "benefits")) for code in benefits}


def parse_plan(data: Mapping[str, Any]) -> Plan:
    """Validate a decoded plan file and build the `Plan`; raise `PlanError` naming the bad key."""
    fmt = data.get("format")
    if not isinstance(fmt, int) or isinstance(fmt, bool) or fmt != FORMAT_VERSION:
        raise PlanError("format", f"this service reads plan format {FORMAT_VERSION}")
    _reject_unknown(data, set(_TOP_LEVEL_KEYS), "")
    _check_shape(data)
    plan = Plan(
        code=text(data.get("code"), "code"),
        version=text(data.get("version"), "version"),
        name=text(data.get("name"), "name"),
        operator=text(data.get("operator"), "operator"),
        effective_from=_param(data, "effective_from", "", a_date),
        effective_to=_param(data, "effective_to", "", a_date),
        premium_fen=_param(data, "premium_fen", "", integer(1)),
        ceiling_fen=_param(data, "ceiling_fen", "", integer(1)),
        shares_per_member_per_period=_param(
            data, "shares_per_member_per_period", "", integer(1, 1)
        ),
        eligibility=Eligibility(**_section(data, "eligibility")),
        period=PeriodRule(**_section(data, "period")),
        applications=Applications(**_section(data, "applications")),
        waiting=Waiting(**_section(data, "waiting")),
        claims=ClaimRules(**_section(data, "claims")),
        benefits=_benefits(data),
        diseases=_diseases(data.get("diseases")),
    )
    if plan.effective_to.value < plan.effective_from.value:
        raise PlanError("effective_to", "is before effective_from")
    if plan.eligibility.min_age.value >= plan.eligibility.under_age.value:
        raise PlanError("eligibility.min_age", "must be below eligibility.under_age")
    return plan
