from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Response

from app.clients.auth import Authorized
from app.core.clock import utc_now
from app.core.db import ReadSessionDep, SessionDep
from app.core.deps import CipherDep, RuntimeDep
from app.core.openapi_docs import AUTHENTICATED, problems
from app.core.policy import Action, Caller
from app.idempotency.deps import Idempotency
from app.webhooks import service
from app.webhooks.schemas import EndpointIn, EndpointOut, EndpointWithSecret

router = APIRouter(prefix="/platform/webhooks", tags=["platform partners"], responses=AUTHENTICATED)
PlatformCaller = Annotated[Caller, Authorized(Action.PLATFORM_WEBHOOKS)]


def _platform(caller: Caller) -> str:
    """The caller's platform code; a platform client bound to nothing owns nothing (404)."""
    tenant = caller.tenant
    return tenant.code if tenant is not None else ""


@router.post(
    "",
    status_code=201,
    response_model=EndpointWithSecret,
    responses=problems(409),
    summary="Register an HTTPS endpoint for coverage events; the signing secret is shown once",
)
async def register(
    body: EndpointIn,
    caller: PlatformCaller,
    idempotency: Idempotency,
    session: SessionDep,
    runtime: RuntimeDep,
) -> object:
    created = await service.register(
        session, runtime.cipher, runtime.settings, _platform(caller), body, caller.client_id
    )
    # The secret is in the answer: a retry with the same key gets it again (stored sealed, like
    # every stored answer), rather than a second endpoint.
    return await idempotency.respond(
        created,
        headers={"Cache-Control": "no-store", "Location": f"/v1/platform/webhooks/{created.id}"},
    )


@router.get("", response_model=list[EndpointOut], summary="The platform's webhook endpoints")
async def list_endpoints(caller: PlatformCaller, session: ReadSessionDep) -> list[EndpointOut]:
    now = utc_now()
    return [service.out(e, now) for e in await service.list_endpoints(session, _platform(caller))]


@router.get("/{endpoint_id}", response_model=EndpointOut, responses=problems(404))
async def get_endpoint(
    endpoint_id: uuid.UUID, caller: PlatformCaller, session: ReadSessionDep
) -> EndpointOut:
    return service.out(await service.owned(session, _platform(caller), endpoint_id), utc_now())


@router.delete(
    "/{endpoint_id}",
    status_code=204,
    responses=problems(404),
    summary="Stop sending events to this endpoint (waiting deliveries are cancelled)",
)
async def remove(endpoint_id: uuid.UUID, caller: PlatformCaller, session: SessionDep) -> Response:
    await service.remove(session, _platform(caller), endpoint_id, caller.client_id)
    return Response(status_code=204)


@router.post(
    "/{endpoint_id}/secret",
    response_model=EndpointWithSecret,
    responses=problems(404),
    summary="A new signing secret; the old one keeps signing beside it for a day",
)
async def rotate_secret(
    endpoint_id: uuid.UUID,
    caller: PlatformCaller,
    session: SessionDep,
    cipher: CipherDep,
    runtime: RuntimeDep,
    response: Response,
) -> EndpointWithSecret:
    rotated = await service.rotate_secret(
        session, cipher, runtime.settings, _platform(caller), endpoint_id, caller.client_id
    )
    response.headers["Cache-Control"] = "no-store"
    return rotated
