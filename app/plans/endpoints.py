from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from app import plans
from app.clients.auth import Authorized
from app.core.deps import ClockDep
from app.core.errors import NotFound
from app.core.openapi_docs import AUTHENTICATED, problems
from app.core.policy import Action, Caller
from app.plans.schemas import PlanList, PlanOut

router = APIRouter(prefix="/plans", tags=["plans"], responses=AUTHENTICATED)


@router.get(
    "",
    response_model=PlanList,
    summary="Every plan, each in the version in force today, with its parameters",
)
async def list_plans(
    caller: Annotated[Caller, Authorized(Action.PLANS_READ)], clock: ClockDep
) -> PlanList:
    book, today = plans.book(), clock.today()
    shown = [book.shown_on(code, today) for code in book.codes()]
    return PlanList(
        plans=[PlanOut.of(plan, book.versions(plan.code), today) for plan in shown if plan]
    )


@router.get(
    "/{plan_code}",
    response_model=PlanOut,
    responses=problems(404),
    summary="One plan in the version in force today: premium, ceiling, eligibility, periods, "
    "the seven benefits, and every version",
)
async def get_one_plan(
    plan_code: str, caller: Annotated[Caller, Authorized(Action.PLANS_READ)], clock: ClockDep
) -> PlanOut:
    book, today = plans.book(), clock.today()
    plan = book.shown_on(plan_code, today)
    if plan is None:
        raise NotFound(f"no plan {plan_code!r}", code="plan_not_found")
    return PlanOut.of(plan, book.versions(plan_code), today)


@router.get(
    "/{plan_code}/versions/{version}",
    response_model=PlanOut,
    responses=problems(404),
    summary="One version of a plan, in force or not",
)
async def get_plan_version(
    plan_code: str,
    version: str,
    caller: Annotated[Caller, Authorized(Action.PLANS_READ)],
    clock: ClockDep,
) -> PlanOut:
    book = plans.book()
    if not book.versions(plan_code):
        raise NotFound(f"no plan {plan_code!r}", code="plan_not_found")
    plan = book.version(plan_code, version)
    if plan is None:
        raise NotFound(
            f"plan {plan_code!r} has no version {version!r}", code="plan_version_not_found"
        )
    return PlanOut.of(plan, book.versions(plan_code), clock.today())
