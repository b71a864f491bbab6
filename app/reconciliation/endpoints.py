"""Reconciliation over HTTP (finance): upload a day's bill, read the run and its differences."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from app.clients.auth import Authorized
from app.core.db import ReadSessionDep, SessionDep
from app.core.errors import Unprocessable, UnsupportedMediaType
from app.core.openapi_docs import AUTHENTICATED, problems
from app.core.policy import Action, Caller
from app.core.schemas import Day
from app.gateway.contract import BILL_COLUMNS
from app.reconciliation import service
from app.reconciliation.schemas import DifferencePage, ReconciliationOut

PATH = "/v1/reconciliations"
router = APIRouter(prefix="/reconciliations", tags=["reconciliation"], responses=AUTHENTICATED)


@router.post(
    "",
    status_code=202,
    response_model=ReconciliationOut,
    responses=problems(413, 415, 422)
    | {
        200: {
            "model": ReconciliationOut,
            "description": "The existing run: the same bill of the same day was sent before",
        }
    },
    summary="Reconcile a day's gateway bill (finance; text/csv)",
    description="The gateway's daily bill (`kind,gateway_ref,our_ref,amount_fen,occurred_at,"
    "fee_fen`) for a Shanghai day, matched by a job against the service's records of that day. "
    "202 with a new run; 200 with the existing run when the same bill of the same day is sent "
    "again. A corrected bill is a new run.",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    },
)
async def submit(
    request: Request,
    caller: Annotated[Caller, Authorized(Action.RECONCILIATIONS)],
    session: SessionDep,
    date: Annotated[Day, Query(description="The bill's Shanghai day, e.g. 2026-11-23.")],
) -> object:
    if (request.headers.get("content-type") or "").split(";")[0].strip() != "text/csv":
        raise UnsupportedMediaType("send the bill as text/csv")
    bill = await request.body()
    header = bill.split(b"\n", 1)[0].strip().decode("utf-8", "replace")
    if header != ",".join(BILL_COLUMNS):
        # Checked now, not only by the job: a file that is not a bill is refused to its sender.
        raise Unprocessable(
            f"the first line must be the bill's header: {','.join(BILL_COLUMNS)}",
            code="invalid_bill",
        )
    run, created = await service.submit(session, date, bill, "upload", caller.client_id)
    await session.flush()
    body = service.out(run).model_dump(mode="json")
    return JSONResponse(
        body, status_code=202 if created else 200, headers={"Location": f"{PATH}/{run.id}"}
    )


@router.get(
    "/{reconciliation_id}",
    response_model=ReconciliationOut,
    responses=problems(404),
    summary="A reconciliation run and its counts",
)
async def get_run(
    reconciliation_id: uuid.UUID,
    caller: Annotated[Caller, Authorized(Action.RECONCILIATIONS)],
    session: ReadSessionDep,
) -> ReconciliationOut:
    return service.out(await service.get(session, reconciliation_id))


@router.get(
    "/{reconciliation_id}/lines",
    response_model=DifferencePage,
    responses=problems(404),
    summary="The differences a run found: missing_here, missing_there, amount and status",
)
async def get_lines(
    reconciliation_id: uuid.UUID,
    caller: Annotated[Caller, Authorized(Action.RECONCILIATIONS)],
    session: ReadSessionDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    after: Annotated[int | None, Query(ge=0, description="`next_after` of the last page.")] = None,
) -> DifferencePage:
    return await service.lines(session, reconciliation_id, limit, after)
