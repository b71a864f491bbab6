from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import Response, StreamingResponse

from app.batches import service, submission
from app.batches.models import RowOutcome
from app.batches.replays import UploadKey
from app.batches.schemas import CSV_DESCRIPTION, BatchIn, BatchOut, BatchRowsPage
from app.batches.slots import RETRY_AFTER_SECONDS, UploadSlots
from app.batches.submission import Upload
from app.clients.auth import Authorized
from app.core.db import ReadSessionDep
from app.core.deps import RuntimeDep
from app.core.openapi_docs import AUTHENTICATED, json_or_csv_body, problems
from app.core.policy import Action, Caller
from app.members.reads import ReadLogDep

UPLOADS_BUSY: dict[int | str, dict[str, Any]] = {
    503: {
        **problems(503)[503],
        "description": "`too_many_uploads`: this process is reading as many uploads as it may "
        f"(send it again after `Retry-After`, about {RETRY_AFTER_SECONDS} s); or the database "
        "is unavailable",
    }
}
router = APIRouter(prefix="/enrolment-batches", tags=["enrolment-batches"], responses=AUTHENTICATED)


@router.post(
    "",
    status_code=202,
    response_model=BatchOut,
    responses={**problems(404, 409, 413, 415), **UPLOADS_BUSY},
    summary="Enrol a union's members in one batch (JSON or CSV, up to 100,000 rows)",
    description="Reads the file as it arrives, stores it and answers 202; workers process it in "
    "chunks. Follow `GET /v1/enrolment-batches/{id}`. A file not in the contract's shape is "
    "refused whole (422 `invalid_batch`, `invalid_header`, `invalid_csv`, `invalid_encoding`, "
    "`empty_batch`; 413 `too_many_rows`); a row whose values are wrong is rejected on its own, "
    "with codes. A process reads a few uploads at once (`MUTUALAID_BATCH_UPLOAD_CONCURRENCY`): "
    "beyond them it answers 503 `too_many_uploads` with `Retry-After` before reading the body.",
    openapi_extra=json_or_csv_body(BatchIn, CSV_DESCRIPTION),
)
async def submit(
    request: Request,
    caller: Annotated[Caller, Authorized(Action.BATCHES_CREATE)],
    runtime: RuntimeDep,
    idempotency_key: Annotated[
        str,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=255,
            pattern=r"^[\x21-\x7e]+$",
            description="A unique key per upload (a UUID is ideal). Sending the same file again "
            "with the same key replays the first answer instead of making a second batch.",
        ),
    ],
    plan_code: Annotated[
        str | None,
        Query(max_length=64, description="The plan, for a CSV upload (JSON names it in the body)."),
    ] = None,
) -> Response:
    union = service.union_of(caller)
    slots: UploadSlots = request.app.state.upload_slots
    with slots.slot():
        key = UploadKey(
            caller.client_id,
            idempotency_key,
            request.method,
            request.url.path,
            request.url.query,
            request.headers.get("content-type"),
        )
        return await submission.submit(
            runtime, caller, union, Upload(key, request.stream(), plan_code)
        )


@router.get("/{batch_id}", response_model=BatchOut, responses=problems(404))
async def get_batch(
    batch_id: uuid.UUID,
    caller: Annotated[Caller, Authorized(Action.BATCHES_READ)],
    session: ReadSessionDep,
) -> BatchOut:
    """Progress (`processed` of `total`, and the outcomes so far) and, once done, the invoice."""
    return await service.get(session, caller, batch_id)


@router.get("/{batch_id}/rows", response_model=BatchRowsPage, responses=problems(400, 404))
async def list_rows(
    batch_id: uuid.UUID,
    caller: Annotated[Caller, Authorized(Action.BATCHES_READ)],
    session: ReadSessionDep,
    reads: ReadLogDep,
    outcome: RowOutcome | None = None,
    cursor: Annotated[
        str | None, Query(max_length=16, description="`next_cursor` of the last page.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> BatchRowsPage:
    """Each processed row's outcome, in row order, with codes for rejected and duplicate rows
    and the member and enrolment ids of accepted ones. No personal data."""
    page = await service.rows_page(session, caller, batch_id, outcome, cursor, limit)
    reads.note(caller, (r.member_id for r in page.rows if r.member_id), "batches.rows")
    return page


@router.get(
    "/{batch_id}/rows.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}}, **problems(404)},
    summary="The rows with one outcome (default: rejected) as a CSV file",
)
async def rows_csv(
    batch_id: uuid.UUID,
    caller: Annotated[Caller, Authorized(Action.BATCHES_READ)],
    runtime: RuntimeDep,
    outcome: RowOutcome = RowOutcome.REJECTED,
) -> StreamingResponse:
    """Columns `row_number`, `ref`, `outcome`, `codes` (`;`-separated), `duplicate_of_row`."""
    pages = await service.rows_csv(runtime, caller, batch_id, outcome)
    return StreamingResponse(
        pages,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="batch-{batch_id}-{outcome.value}.csv"'
        },
    )
