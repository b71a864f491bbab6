"""A member's cover as clients read it: by ID number (in the body), or by member id.

Routed under `/members` (the tag and the paths the contract publishes), served by coverage,
which owns periods and their usage.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter

from app.clients.auth import Authorized
from app.core.db import ReadSessionDep
from app.core.deps import CipherDep, ClockDep
from app.core.openapi_docs import AUTHENTICATED, problems
from app.core.policy import Action, Caller
from app.coverage import service
from app.coverage.schemas import CoverageView, LookupIn, LookupOut
from app.members.reads import ReadLogDep

router = APIRouter(prefix="/members", tags=["members"], responses=AUTHENTICATED)


@router.post(
    "/lookup",
    response_model=LookupOut,
    responses=problems(404),
    summary="Find a member by ID number and name (in the body, never in a URL)",
    description="Both must match the member's: a right ID number with a wrong name answers "
    "404 `member_not_found`, exactly like an unknown person (and another union's member).",
)
async def lookup(
    body: LookupIn,
    caller: Annotated[Caller, Authorized(Action.MEMBERS_LOOKUP)],
    session: ReadSessionDep,
    cipher: CipherDep,
    clock: ClockDep,
    reads: ReadLogDep,
) -> LookupOut:
    found = await service.lookup(session, cipher, caller, body.id_number, body.name, clock.today())
    reads.note(caller, [found.member_id], "members.lookup")
    return found


@router.get(
    "/{member_id}/coverage",
    response_model=CoverageView,
    responses=problems(404),
    summary="A member's periods, and per benefit what was used and what remains",
)
async def coverage(
    member_id: uuid.UUID,
    caller: Annotated[Caller, Authorized(Action.MEMBERS_COVERAGE)],
    session: ReadSessionDep,
    clock: ClockDep,
    reads: ReadLogDep,
) -> CoverageView:
    view = await service.coverage(session, caller, member_id, clock.today())
    reads.note(caller, [member_id], "members.coverage")
    return view
