"""Plans shipped with the service, one TOML file each. A new plan or tier is a new file."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources

from app.rules.plan import Plan, PlanError, parse_plan

DEFAULT_PLAN_CODE = "shanghai-new-employment-e"


def parse_plan_text(text: str, source: str = "<plan>") -> Plan:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PlanError(source, f"not valid TOML: {exc}") from exc
    return parse_plan(data)


@lru_cache(maxsize=1)
def shipped_plans() -> dict[str, Plan]:
    """Every plan file in this package, by plan code (loaded once per process)."""
    plans: dict[str, Plan] = {}
    for entry in sorted(resources.files(__package__).iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            plan = parse_plan_text(entry.read_text(encoding="utf-8"), entry.name)
            if plan.code in plans:
                raise PlanError("code", f"{plan.code} is defined by two files")
            plans[plan.code] = plan
    return plans


def get_plan(code: str) -> Plan | None:
    return shipped_plans().get(code)
