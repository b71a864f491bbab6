from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from app.clients.auth import Authorized
from app.core.errors import NotFound
from app.core.openapi_docs import AUTHENTICATED, problems
from app.core.policy import Action, Caller
from app.plans import get_plan, shipped_plans
from app.plans.schemas import PlanList, PlanOut

router = APIRouter(prefix="/plans", tags=["plans"], responses=AUTHENTICATED)


@router.get("", response_model=PlanList, summary="Every plan, with its parameters")
async def list_plans(caller: Annotated[Caller, Authorized(Action.PLANS_READ)]) -> PlanList:
    return PlanList(plans=[PlanOut.of(plan) for plan in shipped_plans().values()])


@router.get(
    "/{plan_code}",
    response_model=PlanOut,
    responses=problems(404),
    summary="One plan: premium, ceiling, eligibility, periods and the seven benefits",
)
async def get_one_plan(
    plan_code: str, caller: Annotated[Caller, Authorized(Action.PLANS_READ)]
) -> PlanOut:
    plan = get_plan(plan_code)
    if plan is None:
        raise NotFound(f"no plan {plan_code!r}", code="plan_not_found")
    return PlanOut.of(plan)
