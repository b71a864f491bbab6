"""Readers for plan-file values: each checks a type and a range, and names the key at fault."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import date, datetime
from typing import Any


class PlanError(ValueError):
    """A plan file that cannot be used; the message starts with the offending key."""

    def __init__(self, key: str, problem: str) -> None:
        self.key = key
        super().__init__(f"{key}: {problem}")


Reader = Callable[[object, str], Any]


# Bounds that no real plan reaches, so a typo cannot overflow date or money arithmetic later.
MAX_FEN = 10**12
MAX_DAYS = 3650


def integer(minimum: int = 0, maximum: int = MAX_FEN) -> Reader:
    def read(value: object, key: str) -> int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise PlanError(key, f"expected an integer, got {value!r}")
        if not minimum <= value <= maximum:
            raise PlanError(key, f"must be between {minimum} and {maximum}, got {value}")
        return value

    return read


def days(minimum: int = 0) -> Reader:
    return integer(minimum, MAX_DAYS)


def false_only(what: str) -> Reader:
    """Conditions this service cannot check must not be switched on by a plan file."""

    def read(value: object, key: str) -> bool:
        if boolean(value, key):
            raise PlanError(key, f"this service does not check {what}; it must be false")
        return False

    return read


def boolean(value: object, key: str) -> bool:
    if not isinstance(value, bool):
        raise PlanError(key, f"expected true or false, got {value!r}")
    return value


def a_date(value: object, key: str) -> date:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise PlanError(key, f"expected a date (YYYY-MM-DD), got {value!r}")
    return value


def text(value: object, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise PlanError(key, f"expected a non-empty string, got {value!r}")
    return value


def choice(*allowed: str) -> Reader:
    def read(value: object, key: str) -> str:
        if value not in allowed:
            raise PlanError(key, f"must be one of {', '.join(allowed)}, got {value!r}")
        assert isinstance(value, str)
        return value

    return read


def text_list(allowed: frozenset[str] | None = None, *, non_empty: bool = True) -> Reader:
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


def grade_percents(value: object, key: str) -> tuple[int, ...]:
    """JR/T 0083's ten grades: grade 1 (first) pays most, and no grade pays more than a worse."""
    if not isinstance(value, list) or len(value) != 10:
        raise PlanError(key, "expected a list of 10 integers, grade 1 first")
    percents = tuple(integer(0, 100)(v, f"{key}[{i}]") for i, v in enumerate(value))
    if any(a < b for a, b in itertools.pairwise(percents)):
        raise PlanError(key, "a more severe grade must not pay less than a lighter one")
    return percents
