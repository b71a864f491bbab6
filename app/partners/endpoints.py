"""What platforms call: one worker's cover, or up to 1,000 at once.

The one-worker look-up is the service's most frequent request (a platform may ask before every
order it dispatches), and FastAPI's handling of a route (resolving its dependencies, validating
its parameters) cost it more CPU than the rest of the request together. So besides its
documented route, which keeps its place in the OpenAPI spec and answers an id that is not
valid, it is served first by `LookupRoute`, a plain Starlette route that calls the very same
functions: the caller's dependency (`Authorized`), the look-up, the same response. Its errors
go through the same problem handlers.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import TypeAdapter, ValidationError
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from app.clients.auth import Authorized, bearer
from app.core.openapi_docs import AUTHENTICATED
from app.core.policy import Action, Caller
from app.core.runtime import Runtime
from app.partners.coverage import workers_coverage
from app.partners.schemas import (
    CoverageQuery,
    CoverageResults,
    PlatformWorkerId,
    WorkerCoverage,
)

router = APIRouter(prefix="/platform", tags=["platform partners"], responses=AUTHENTICATED)
_MAY_ASK = Authorized(Action.PLATFORM_COVERAGE)
PlatformCaller = Annotated[Caller, _MAY_ASK]
# Cover changes from one day to the next and is about a person: no shared caches.
_NO_STORE = {"Cache-Control": "no-store"}


WORKER_PATH = "/workers/{platform_worker_id}/coverage"


@router.get(
    WORKER_PATH,
    response_model=WorkerCoverage,
    summary="Whether one of the platform's workers is covered today",
)
async def worker_coverage(
    platform_worker_id: Annotated[PlatformWorkerId, Path()],
    caller: PlatformCaller,
    request: Request,
) -> Response:
    [answer] = await _coverage(request, caller, [platform_worker_id])
    return _json(answer)


@router.post(
    "/coverage-queries",
    response_model=CoverageResults,
    summary="Whether up to 1,000 of the platform's workers are covered today",
)
async def coverage_queries(
    body: CoverageQuery,
    caller: PlatformCaller,
    request: Request,
) -> Response:
    answers = await _coverage(request, caller, body.worker_ids)
    return _json(CoverageResults(results=answers))


def _json(answer: WorkerCoverage | CoverageResults) -> Response:
    """Serialised once, straight from the model we built (no second validation against the
    response model, which documents it); never cached by anyone in between."""
    return Response(answer.model_dump_json(), media_type="application/json", headers=_NO_STORE)


async def _coverage(
    request: Request, caller: Caller, worker_ids: list[str]
) -> list[WorkerCoverage]:
    """The runtime straight from the app and no connection handed in (the look-up opens its
    own, see `app.partners.coverage`): the service's most frequent request resolves one
    dependency, its caller."""
    runtime: Runtime = request.app.state.runtime
    tenant = caller.tenant  # None only for a platform client bound to nothing: it sees nothing
    return await workers_coverage(
        runtime.db,
        runtime.cipher,
        tenant.code if tenant else None,
        worker_ids,
        runtime.clock.today(),
    )


_WORKER_ID = TypeAdapter(PlatformWorkerId)


async def _plain_worker_coverage(request: Request) -> Response:
    """`worker_coverage` without FastAPI's route handling: the same steps, called in turn."""
    try:
        platform_worker_id = _WORKER_ID.validate_python(request.path_params["platform_worker_id"])
    except ValidationError as exc:  # as FastAPI reports a path parameter that fails
        raise RequestValidationError(
            [
                {**error, "loc": ("path", "platform_worker_id", *error["loc"])}
                for error in exc.errors()
            ]
        ) from None
    caller = await _MAY_ASK.dependency(request, await bearer(request))
    [answer] = await _coverage(request, caller, [platform_worker_id])
    return _json(answer)


class LookupRoute(Route):
    """GET `{prefix}/platform/workers/{platform_worker_id}/coverage`, as `_plain_worker_coverage`;
    mounted ahead of every other route (see `app.api`)."""

    def __init__(self, prefix: str) -> None:
        super().__init__(prefix + router.prefix + WORKER_PATH, _plain_worker_coverage)
        self.methods = {"GET"}  # not HEAD, which Starlette adds: the documented route has none

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["route"] = self  # the route template for metrics and the access log
        await super().handle(scope, receive, send)
