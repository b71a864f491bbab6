from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Request

from app.clients import service
from app.clients.auth import Authorized
from app.clients.caller_cache import CallerCache
from app.clients.rate_limit import RateLimiter
from app.clients.schemas import CallerOut, ClientChanges, ClientOut
from app.core.db import SessionDep
from app.core.openapi_docs import AUTHENTICATED, problems
from app.core.policy import Action, Caller

router = APIRouter(prefix="/clients", tags=["clients"], responses=AUTHENTICATED)


@router.get("/me", response_model=CallerOut, summary="The calling client: check a key's role")
async def me(
    caller: Annotated[Caller, Authorized(Action.CLIENTS_SELF)], request: Request
) -> CallerOut:
    limiter: RateLimiter = request.app.state.rate_limiter
    return CallerOut(
        id=caller.client_id,
        name=caller.name,
        role=caller.role,
        org_code=caller.org_code,
        rate_limit_per_second=limiter.rate_for(caller) if limiter.enabled else None,
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
    request: Request,
    after_response: BackgroundTasks,
) -> ClientOut:
    revoked = ClientOut.model_validate(
        await service.revoke_client(session, client_id, caller.client_id)
    )
    _forget(request, after_response, client_id)
    return revoked


@router.patch(
    "/{client_id}",
    response_model=ClientOut,
    responses=problems(404),
    summary="Set a client's own request rate, or give it its role's again (admin)",
    description="Each API process holds the client to it within the key cache's few seconds "
    "(`MUTUALAID_API_KEY_CACHE_SECONDS`); this process at once.",
)
async def change(
    client_id: uuid.UUID,
    body: ClientChanges,
    caller: Annotated[Caller, Authorized(Action.CLIENTS_MANAGE)],
    session: SessionDep,
    request: Request,
    after_response: BackgroundTasks,
) -> ClientOut:
    changed = await service.set_rate_limit(
        session, client_id, body.rate_limit_per_second, caller.client_id
    )
    answer = ClientOut.model_validate(changed)
    _forget(request, after_response, client_id)
    return answer


def _forget(request: Request, after_response: BackgroundTasks, client_id: uuid.UUID) -> None:
    """This process forgets the client's cached key now, and again once the change has
    committed, in case a request in between looked the key up and remembered it as it was."""
    cache: CallerCache = request.app.state.caller_cache
    cache.forget_client(client_id)
    after_response.add_task(cache.forget_client, client_id)
