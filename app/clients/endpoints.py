from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter

from app.clients import service
from app.clients.auth import Authorized
from app.clients.schemas import CallerOut, ClientOut
from app.core.db import SessionDep
from app.core.openapi_docs import AUTHENTICATED, problems
from app.core.policy import Action, Caller

router = APIRouter(prefix="/clients", tags=["clients"], responses=AUTHENTICATED)


@router.get("/me", response_model=CallerOut, summary="The calling client: check a key's role")
async def me(caller: Annotated[Caller, Authorized(Action.CLIENTS_SELF)]) -> CallerOut:
    return CallerOut(
        id=caller.client_id, name=caller.name, role=caller.role, org_code=caller.org_code
    )


@router.get("", response_model=list[ClientOut], summary="All active clients (admin)")
async def list_clients(
    caller: Annotated[Caller, Authorized(Action.CLIENTS_MANAGE)], session: SessionDep
) -> list[ClientOut]:
    return [ClientOut.model_validate(c) for c in await service.list_clients(session)]


@router.post(
    "/{client_id}/revoke",
    response_model=ClientOut,
    responses=problems(404),
    summary="Revoke a client's key at once (admin)",
)
async def revoke(
    client_id: uuid.UUID,
    caller: Annotated[Caller, Authorized(Action.CLIENTS_MANAGE)],
    session: SessionDep,
) -> ClientOut:
    return ClientOut.model_validate(await service.revoke_client(session, client_id))
