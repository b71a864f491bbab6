from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from app.clients.auth import Authorized
from app.core.db import SessionDep
from app.core.deps import RuntimeDep
from app.core.openapi_docs import AUTHENTICATED, problems
from app.core.policy import Action, Caller
from app.idempotency.deps import Idempotency
from app.platforms import service
from app.platforms.schemas import PlatformIn, PlatformOut, PlatformUpdate

router = APIRouter(prefix="/platforms", tags=["platforms"], responses=AUTHENTICATED)
Admin = Annotated[Caller, Authorized(Action.PLATFORMS_MANAGE)]


@router.post(
    "",
    status_code=201,
    response_model=PlatformOut,
    responses=problems(409),
    summary="Register a partner platform (admin)",
    description="In production the verification URLs must be HTTPS on public addresses (422 "
    "`verification_url_not_https`, `verification_url_not_allowed`, ...), as webhook URLs are.",
)
async def add_platform(
    body: PlatformIn,
    caller: Admin,
    idempotency: Idempotency,
    session: SessionDep,
    runtime: RuntimeDep,
) -> object:
    await service.check_verification_urls(runtime.settings, body.verify_url, body.bulk_verify_url)
    platform = await service.add_platform(session, runtime.cipher, body, caller.client_id)
    return await idempotency.respond(service.out(platform))


@router.get("", response_model=list[PlatformOut], summary="All partner platforms (admin)")
async def list_platforms(caller: Admin, session: SessionDep) -> list[PlatformOut]:
    return [service.out(p) for p in await service.list_platforms(session)]


@router.get("/{code}", response_model=PlatformOut, responses=problems(404))
async def get_platform(code: str, caller: Admin, session: SessionDep) -> PlatformOut:
    return service.out(await service.get_platform(session, code))


@router.patch(
    "/{code}",
    response_model=PlatformOut,
    responses=problems(404),
    summary="Change a platform's URLs, credential or enabled flag (admin)",
)
async def update_platform(
    code: str, body: PlatformUpdate, caller: Admin, session: SessionDep, runtime: RuntimeDep
) -> PlatformOut:
    await service.check_verification_urls(runtime.settings, body.verify_url, body.bulk_verify_url)
    platform = await service.update_platform(session, runtime.cipher, code, body, caller.client_id)
    return service.out(platform)
