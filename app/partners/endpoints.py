from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from app.clients.auth import Authorized
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
PlatformCaller = Annotated[Caller, Authorized(Action.PLATFORM_COVERAGE)]
# Cover changes from one day to the next and is about a person: no shared caches.
_NO_STORE = {"Cache-Control": "no-store"}


@router.get(
    "/workers/{platform_worker_id}/coverage",
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
