from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from app.clients.auth import Authorized
from app.core.db import SessionDep
from app.core.deps import ClockDep, RuntimeDep
from app.core.openapi_docs import AUTHENTICATED, problems
from app.core.policy import Action, Caller
from app.core.schemas import Moment
from app.enrolment import review as examiners
from app.enrolment import service
from app.enrolment.models import EnrolmentStatus
from app.enrolment.schemas import EnrolmentIn, EnrolmentOut, EnrolmentReviewIn
from app.idempotency.deps import IdempotencyReservedFirst
from app.members.reads import ReadLogDep

router = APIRouter(prefix="/enrolments", tags=["enrolments"], responses=AUTHENTICATED)


@router.post(
    "",
    status_code=201,
    response_model=EnrolmentOut,
    responses=problems(409),
    summary="Apply for cover (government app)",
    description="201 with `awaiting_payment` when the platform verified the work, or "
    "`pending_review` when it could not answer. 422 with the failed checks' codes "
    "(`invalid_id_number`, `age_limit`, `work_city_not_covered`, `platform_unknown`, "
    "`platform_work_not_verified`, `consent_required`, ...); 409 `already_enrolled`.",
)
async def apply(
    body: EnrolmentIn,
    caller: Annotated[Caller, Authorized(Action.ENROLMENTS_CREATE)],
    idempotency: IdempotencyReservedFirst,
    session: SessionDep,
    runtime: RuntimeDep,
) -> object:
    enrolment = await service.apply(runtime, session, caller, body)
    return await idempotency.respond(
        enrolment, headers={"Location": f"/v1/enrolments/{enrolment.id}"}
    )


@router.get(
    "",
    response_model=list[EnrolmentOut],
    summary="The examiners' queue: applications in a status, oldest first",
)
async def list_enrolments(
    caller: Annotated[Caller, Authorized(Action.ENROLMENTS_REVIEW)],
    session: SessionDep,
    reads: ReadLogDep,
    status: EnrolmentStatus = EnrolmentStatus.PENDING_REVIEW,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    after_created_at: Annotated[
        Moment | None, Query(description="`created_at` of the last row of the page.")
    ] = None,
    after_id: Annotated[uuid.UUID | None, Query(description="`id` of that last row.")] = None,
) -> list[EnrolmentOut]:
    after = (after_created_at, after_id) if after_created_at and after_id else None
    queued = await examiners.queue(session, status, limit, after)
    reads.note(caller, (e.member_id for e in queued), "enrolments.read")
    return queued


@router.get("/{enrolment_id}", response_model=EnrolmentOut, responses=problems(404))
async def get_enrolment(
    enrolment_id: uuid.UUID,
    caller: Annotated[Caller, Authorized(Action.ENROLMENTS_READ)],
    session: SessionDep,
    reads: ReadLogDep,
) -> EnrolmentOut:
    enrolment = await service.get(session, caller, enrolment_id)
    reads.note(caller, [enrolment.member_id], "enrolments.read")
    return enrolment


@router.post(
    "/{enrolment_id}/review",
    response_model=EnrolmentOut,
    responses=problems(404, 409),
    summary="Approve or refuse an application pending review (examiner)",
)
async def review(
    enrolment_id: uuid.UUID,
    body: EnrolmentReviewIn,
    caller: Annotated[Caller, Authorized(Action.ENROLMENTS_REVIEW)],
    session: SessionDep,
    clock: ClockDep,
) -> EnrolmentOut:
    return await examiners.review(
        session, caller, enrolment_id, body.decision == "approve", body.note, clock
    )
