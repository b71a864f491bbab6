from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.clients.auth import Authorized
from app.core.db import ReadSessionDep
from app.core.openapi_docs import AUTHENTICATED
from app.core.policy import Action, Caller
from app.core.schemas import Day
from app.reports import service
from app.reports.fund import fund_report
from app.reports.schemas import FundReport, Summary, UnionSummary
from app.reports.unions import union_summary

router = APIRouter(prefix="/reports", tags=["reports"], responses=AUTHENTICATED)


@router.get(
    "/summary",
    response_model=Summary,
    response_model_by_alias=True,
    summary="Enrolments, cover, claims and amounts per benefit for a range of days",
    description="Days are Shanghai calendar days, both ends included (at most 3,660). "
    "Claims are counted by the day they were filed; approvals and payments by the day they "
    "happened, so an approval in the range may belong to a claim filed before it.",
)
async def summary(
    caller: Annotated[Caller, Authorized(Action.REPORTS_READ)],
    session: ReadSessionDep,
    from_date: Annotated[Day, Query(alias="from", description="First day, e.g. 2026-07-01.")],
    to_date: Annotated[Day, Query(alias="to", description="Last day, included.")],
) -> Summary:
    return await service.summary(session, from_date, to_date)


@router.get(
    "/fund",
    response_model=FundReport,
    response_model_by_alias=True,
    summary="The fund's money for a range of days, from the double-entry ledger",
    description="Each account's opening balance, debits, credits and closing balance (debit "
    "positive), with premiums received, refunds paid, benefits approved, paid and outstanding.",
)
async def fund(
    caller: Annotated[Caller, Authorized(Action.FUND_READ)],
    session: ReadSessionDep,
    from_date: Annotated[Day, Query(alias="from", description="First day, e.g. 2026-07-01.")],
    to_date: Annotated[Day, Query(alias="to", description="Last day, included.")],
) -> FundReport:
    return await fund_report(session, from_date, to_date)


@router.get(
    "/union-summary",
    response_model=UnionSummary,
    response_model_by_alias=True,
    summary="A district union's own figures for a range of days",
    description="The calling union's: its members' applications through the app and the rows "
    "its batches enrolled (taken, and paid within the range), its members' cover on the last "
    "day, its members' claims, approvals and payouts per benefit, and what its batch invoices "
    "paid. Days are Shanghai calendar days, both ends included (at most 3,660).",
)
async def union(
    caller: Annotated[Caller, Authorized(Action.UNION_REPORTS)],
    session: ReadSessionDep,
    from_date: Annotated[Day, Query(alias="from", description="First day, e.g. 2026-07-01.")],
    to_date: Annotated[Day, Query(alias="to", description="Last day, included.")],
) -> UnionSummary:
    return await union_summary(session, caller, from_date, to_date)
