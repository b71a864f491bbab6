"""The plan as clients see it: every parameter as `{value, confirmed}`, and its versions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field

from app.rules.plan import BenefitTerms, Param, Plan
from app.rules.plan_book import in_force_on

ParamValue = bool | int | str | date | list[int] | list[str]


class ParamOut(BaseModel):
    value: ParamValue
    confirmed: bool = Field(description="True when the plan's announcement states this value.")


def _param(param: Param[Any]) -> ParamOut:
    value = list(param.value) if isinstance(param.value, tuple) else param.value
    return ParamOut(value=value, confirmed=param.confirmed)


def _params(section: Any) -> dict[str, ParamOut]:
    return {name: _param(getattr(section, name)) for name in section.__dataclass_fields__}


class BenefitOut(BaseModel):
    code: str
    name: str
    event_kinds: ParamOut
    requires_review: ParamOut
    required_documents: ParamOut
    parameters: dict[str, ParamOut]

    @classmethod
    def of(cls, terms: BenefitTerms) -> BenefitOut:
        return cls(
            code=terms.code,
            name=terms.name,
            event_kinds=_param(terms.event_kinds),
            requires_review=_param(terms.requires_review),
            required_documents=_param(terms.required_documents),
            parameters={name: _param(p) for name, p in terms.params.items()},
        )


class DiseaseOut(BaseModel):
    code: str
    name: str
    severities: list[str]


class PlanVersionOut(BaseModel):
    version: str
    effective_from: date
    effective_to: date = Field(description="The last day a period can start under this version.")
    premium_fen: int = Field(description="The premium of one period under this version, in fen.")
    status: Literal["past", "in_force", "upcoming"] = Field(
        description="On today's date (the service's clock)."
    )

    @classmethod
    def of(cls, plan: Plan, today: date) -> PlanVersionOut:
        return cls(
            version=plan.version,
            effective_from=plan.effective_from.value,
            effective_to=plan.effective_to.value,
            premium_fen=plan.premium_fen.value,
            status="in_force"
            if in_force_on(plan, today)
            else "upcoming"
            if plan.effective_from.value > today
            else "past",
        )


class PlanOut(BaseModel):
    code: str
    version: str = Field(
        description="The version shown: the one in force today (else the next to come, else "
        "the last) unless one was asked for by name."
    )
    name: str
    operator: str
    effective_from: ParamOut
    effective_to: ParamOut
    premium_fen: ParamOut
    ceiling_fen: ParamOut
    shares_per_member_per_period: ParamOut
    eligibility: dict[str, ParamOut]
    period: dict[str, ParamOut]
    applications: dict[str, ParamOut]
    waiting: dict[str, ParamOut]
    claims: dict[str, ParamOut]
    benefits: list[BenefitOut]
    diseases: list[DiseaseOut] = Field(description="Diseases the critical-illness benefits list.")
    versions: list[PlanVersionOut] = Field(
        description="Every version of the plan, oldest first. A period keeps the version it "
        "started under; a claim is decided by the version of the period its event falls in."
    )

    @classmethod
    def of(cls, plan: Plan, versions: Sequence[Plan], today: date) -> PlanOut:
        return cls(
            code=plan.code,
            version=plan.version,
            name=plan.name,
            operator=plan.operator,
            effective_from=_param(plan.effective_from),
            effective_to=_param(plan.effective_to),
            premium_fen=_param(plan.premium_fen),
            ceiling_fen=_param(plan.ceiling_fen),
            shares_per_member_per_period=_param(plan.shares_per_member_per_period),
            eligibility=_params(plan.eligibility),
            period=_params(plan.period),
            applications=_params(plan.applications),
            waiting=_params(plan.waiting),
            claims=_params(plan.claims),
            benefits=[BenefitOut.of(terms) for terms in plan.benefits.values()],
            diseases=[
                DiseaseOut(code=d.code, name=d.name, severities=list(d.severities))
                for d in plan.diseases.values()
            ],
            versions=[PlanVersionOut.of(v, today) for v in versions],
        )


class PlanList(BaseModel):
    plans: list[PlanOut]
