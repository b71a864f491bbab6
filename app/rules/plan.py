"""The plan as data: a typed, validated view of a plan file.

A plan file (TOML, see `app/plans/`) is parsed by `parse_plan` from the already-decoded mapping;
reading the file is the caller's business, so this module does no I/O. Every parameter is a
`Param` carrying its value and whether the plan's announcement confirms it. Validation fails
with `PlanError` naming the dotted key at fault.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from app.rules.vocabulary import BENEFITS, EVENT_KINDS, SEVERITIES, WORK_TYPES

T = TypeVar("T")
FORMAT_VERSION = 1


class PlanError(ValueError):
    """A plan file that cannot be used; the message starts with the offending key."""

    def __init__(self, key: str, problem: str) -> None:
        self.key = key
        super().__init__(f"{key}: {problem}")


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


@dataclass(frozen=True, slots=True)
class PeriodRule:
    months: Param[int]
    starts_days_after_payment: Param[int]
    renewable: Param[bool]
    renewal_opens_days_before_end: Param[int]


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


# What each benefit must declare beyond the common terms: name -> reader.
Reader = Callable[[object, str], Any]


# Bounds that no real plan reaches, so a typo cannot overflow date or money arithmetic later.
MAX_FEN = 10**12
MAX_DAYS = 3650


def _int(minimum: int = 0, maximum: int = MAX_FEN) -> Reader:
    def read(value: object, key: str) -> int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise PlanError(key, f"expected an integer, got {value!r}")
        if not minimum <= value <= maximum:
            raise PlanError(key, f"must be between {minimum} and {maximum}, got {value}")
        return value

    return read


def _days(minimum: int = 0) -> Reader:
    return _int(minimum, MAX_DAYS)


def _false_only(what: str) -> Reader:
    """Conditions this service cannot check must not be switched on by a plan file."""

    def read(value: object, key: str) -> bool:
        if _bool(value, key):
            raise PlanError(key, f"this service does not check {what}; it must be false")
        return False

    return read


def _bool(value: object, key: str) -> bool:
    if not isinstance(value, bool):
        raise PlanError(key, f"expected true or false, got {value!r}")
    return value


def _date(value: object, key: str) -> date:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise PlanError(key, f"expected a date (YYYY-MM-DD), got {value!r}")
    return value


def _str(value: object, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise PlanError(key, f"expected a non-empty string, got {value!r}")
    return value


def _choice(*allowed: str) -> Reader:
    def read(value: object, key: str) -> str:
        if value not in allowed:
            raise PlanError(key, f"must be one of {', '.join(allowed)}, got {value!r}")
        assert isinstance(value, str)
        return value

    return read


def _str_list(allowed: frozenset[str] | None = None, *, non_empty: bool = True) -> Reader:
    def read(value: object, key: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise PlanError(key, f"expected a list of strings, got {value!r}")
        if non_empty and not value:
            raise PlanError(key, "must not be empty")
        if allowed is not None and (unknown := sorted(set(value) - allowed)):
            raise PlanError(key, f"unknown value(s) {', '.join(unknown)}")
        if len(set(value)) != len(value):
            raise PlanError(key, "lists a value twice")
        return tuple(value)

    return read


def _grade_percents(value: object, key: str) -> tuple[int, ...]:
    """JR/T 0083's ten grades: grade 1 (first) pays most, and no grade pays more than a worse."""
    if not isinstance(value, list) or len(value) != 10:
        raise PlanError(key, "expected a list of 10 integers, grade 1 first")
    percents = tuple(_int(0, 100)(v, f"{key}[{i}]") for i, v in enumerate(value))
    if any(a < b for a, b in itertools.pairwise(percents)):
        raise PlanError(key, "a more severe grade must not pay less than a lighter one")
    return percents


BENEFIT_PARAMS: dict[str, dict[str, Reader]] = {
    "hospital_allowance": {
        "daily_rate_fen": _int(),
        "deductible_days_per_stay": _days(),
        "max_days_per_period": _days(1),
        "day_count": _choice("nights", "inclusive"),
        "max_days_after_period_end": _days(),
    },
    "critical_illness": {
        "amount_fen": _int(),
        # 重大疾病保险的疾病定义使用规范 (2020): a mild form pays at most 30% of the severe one.
        "mild_percent": _int(0, 30),
        "payments_per_period": _int(1, 10),
    },
    "critical_illness_medical": {
        "share_percent": _int(0, 100),
        "max_per_period_fen": _int(),
    },
    "illness_death": {
        "amount_fen": _int(),
        "payee": _choice("beneficiary", "district_union"),
    },
    "accidental_death": {
        "amount_fen": _int(),
        "less_disability_paid_for_same_accident": _bool,
        "less_condolence_paid_for_same_accident": _bool,
        "payee": _choice("beneficiary", "district_union"),
    },
    "accidental_disability": {
        "amount_fen": _int(),
        "grade_percents": _grade_percents,
        "raise_one_grade_on_ties": _bool,
        "less_condolence_paid_for_same_accident": _bool,
    },
    "accident_condolence": {
        "amount_per_event_fen": _int(),
        "max_per_period_fen": _int(),
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
        read(entry["value"], f"{where}.value"), _bool(entry["confirmed"], f"{where}.confirmed")
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
        name=_str(data.get("name"), f"{path}.name"),
        event_kinds=_param(data, "event_kinds", path, _str_list(EVENT_KINDS)),
        requires_review=_param(data, "requires_review", path, _bool),
        required_documents=_param(data, "required_documents", path, _str_list(non_empty=False)),
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
        code = _str(entry.get("code"), f"{path}.code")
        if code in diseases:
            raise PlanError(f"{path}.code", f"{code} is listed twice")
        diseases[code] = Disease(
            code=code,
            name=_str(entry.get("name"), f"{path}.name"),
            severities=_str_list(SEVERITIES)(entry.get("severities"), f"{path}.severities"),
        )
    return diseases


def parse_plan(data: Mapping[str, Any]) -> Plan:
    """Validate a decoded plan file and build the `Plan`; raise `PlanError` naming the bad key."""
    fmt = data.get("format")
    if not isinstance(fmt, int) or isinstance(fmt, bool) or fmt != FORMAT_VERSION:
        raise PlanError("format", f"this service reads plan format {FORMAT_VERSION}")
    _reject_unknown(
        data,
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
        },
        "",
    )
    eligibility = _table(data, "eligibility", "")
    period = _table(data, "period", "")
    waiting = _table(data, "waiting", "")
    applications = _table(data, "applications", "")
    application_readers: dict[str, Reader] = {"valid_days": _days(1)}
    _reject_unknown(applications, set(application_readers), "applications")
    claims = _table(data, "claims", "")
    benefits = _table(data, "benefits", "")
    _reject_unknown(benefits, set(BENEFITS), "benefits")
    missing = [code for code in BENEFITS if code not in benefits]
    if missing:
        raise PlanError(f"benefits.{missing[0]}", "missing table")

    elig_readers: dict[str, Reader] = {
        "min_age": _int(0, 150),
        "under_age": _int(1, 150),
        "work_cities": _str_list(),
        "work_types": _str_list(WORK_TYPES),
        "platform_verification_required": _bool,
        "hukou_required": _false_only("hukou (the work alone decides)"),
        "social_insurance_required": _false_only("social insurance records"),
        "orders_window_days": _days(1),
        "min_orders_in_window": _int(0, 10_000),
    }
    _reject_unknown(eligibility, set(elig_readers), "eligibility")
    period_readers: dict[str, Reader] = {
        "months": _int(1, 120),
        "starts_days_after_payment": _int(0, 31),
        "renewable": _bool,
        "renewal_opens_days_before_end": _days(),
    }
    _reject_unknown(period, set(period_readers), "period")
    waiting_readers: dict[str, Reader] = {
        "illness_days": _days(),
        "accident_days": _days(),
        "waived_on_continuous_renewal": _bool,
    }
    _reject_unknown(waiting, set(waiting_readers), "waiting")
    claim_readers: dict[str, Reader] = {"deadline_years": _int(1, 30), "death_ends_cover": _bool}
    _reject_unknown(claims, set(claim_readers), "claims")

    plan = Plan(
        code=_str(data.get("code"), "code"),
        version=_str(data.get("version"), "version"),
        name=_str(data.get("name"), "name"),
        operator=_str(data.get("operator"), "operator"),
        effective_from=_param(data, "effective_from", "", _date),
        effective_to=_param(data, "effective_to", "", _date),
        premium_fen=_param(data, "premium_fen", "", _int(1)),
        ceiling_fen=_param(data, "ceiling_fen", "", _int(1)),
        shares_per_member_per_period=_param(data, "shares_per_member_per_period", "", _int(1, 1)),
        eligibility=Eligibility(**_params(eligibility, "eligibility", elig_readers)),
        period=PeriodRule(**_params(period, "period", period_readers)),
        applications=Applications(**_params(applications, "applications", application_readers)),
        waiting=Waiting(**_params(waiting, "waiting", waiting_readers)),
        claims=ClaimRules(**_params(claims, "claims", claim_readers)),
        benefits={code: _benefit(code, _table(benefits, code, "benefits")) for code in BENEFITS},
        diseases=_diseases(data.get("diseases")),
    )
    if plan.effective_to.value < plan.effective_from.value:
        raise PlanError("effective_to", "is before effective_from")
    if plan.eligibility.min_age.value >= plan.eligibility.under_age.value:
        raise PlanError("eligibility.min_age", "must be below eligibility.under_age")
    return plan
