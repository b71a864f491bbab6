"""Routes about a member as a person: who has read their personal data."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from app.clients.auth import Authorized
from app.core.db import ReadSessionDep
from app.core.errors import NotFound
from app.core.openapi_docs import AUTHENTICATED, problems
from app.core.policy import Action, Caller
from app.members import reads
from app.members.models import Member

router = APIRouter(prefix="/members", tags=["members"], responses=AUTHENTICATED)


@router.get(
    "/{member_id}/access-log",
    response_model=reads.ReadsPage,
    responses=problems(404),
    summary="Every read of a member's personal data: who, which operation, when (examiner)",
    description="Lookups, coverage views, claims, enrolments, payouts, batch rows and unions' "
    "member lists that showed this member, oldest first, cursor-paginated.",
)
async def access_log(
    member_id: uuid.UUID,
    caller: Annotated[Caller, Authorized(Action.MEMBERS_ACCESS_LOG)],
    session: ReadSessionDep,
    cursor: Annotated[
        str | None, Query(max_length=128, description="`next_cursor` of the last page.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
) -> reads.ReadsPage:
    if await session.get(Member, member_id) is None:
        raise NotFound("member not found", code="member_not_found")
    return reads.page_out(*await reads.page(session, member_id, cursor, limit))
