from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.clients.auth import Authorized
from app.core.db import ReadSessionDep
from app.core.deps import ClockDep
from app.core.openapi_docs import AUTHENTICATED, problems
from app.core.policy import Action, Caller
from app.members.reads import ReadLogDep
from app.unions import members
from app.unions.schemas import UnionMembersPage

router = APIRouter(prefix="/union", tags=["unions"], responses=AUTHENTICATED)


@router.get(
    "/members",
    response_model=UnionMembersPage,
    responses=problems(400),
    summary="The union's own members, masked, with their cover today",
)
async def list_members(
    caller: Annotated[Caller, Authorized(Action.UNION_MEMBERS)],
    session: ReadSessionDep,
    clock: ClockDep,
    reads: ReadLogDep,
    cursor: Annotated[
        str | None, Query(max_length=128, description="`next_cursor` of the last page.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> UnionMembersPage:
    """Members bound to the calling union's org code (joined through the app in its district,
    or enrolled by its batches), oldest first. No other union's member ever appears."""
    page = await members.page(session, caller, cursor, limit, clock.today())
    reads.note(caller, (m.member_id for m in page.members), "union.members")
    return page
