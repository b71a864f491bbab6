"""Test-only routes that exercise the shared mechanisms the way feature endpoints will.

They create real rows (API clients) so that "exactly one effect" and "nothing half-written" can be
checked in the database.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query, Request
from pydantic import Field
from sqlalchemy import event, text

from app.clients.auth import Authorized
from app.clients.service import create_client
from app.core.config import Settings
from app.core.db import SessionDep
from app.core.errors import Conflict
from app.core.policy import Action, Caller, Role, Tenant
from app.core.schemas import RequestModel
from app.idempotency.deps import Idempotency
from app.main import create_app

router = APIRouter(prefix="/v1/probes")


class ProbeIn(RequestModel):
    name: str = Field(min_length=1, max_length=100)
    wait: bool = False
    wait_after_write: bool = False
    fail_after_write: bool = False
    fail_at_commit: bool = False
    forget_respond: bool = False
    # Abort the request's transaction with this SQLSTATE (PostgreSQL) on its first n runs.
    conflicts: int = 0
    sqlstate: str = Field("40001", pattern=r"^40(001|P01)$")


class Gate:
    """Lets a test hold a request inside its handler while it sends a duplicate."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self.release = asyncio.Event()


@router.post("/things", status_code=201)
async def create_thing(
    body: ProbeIn,
    request: Request,
    caller: Annotated[Caller, Authorized(Action.CLIENTS_SELF)],
    session: SessionDep,
    idempotency: Idempotency,
) -> Any:
    gate: Gate = request.app.state.gate
    if body.wait:
        gate.entered.set()
        await gate.release.wait()
    issued = await create_client(session, role=Role.EXAMINER, name=body.name)
    if body.wait_after_write:  # holds the SQLite write lock while it waits
        gate.entered.set()
        await gate.release.wait()
    if body.fail_after_write:
        raise Conflict("refused after writing", code="probe_refused")
    runs = request.app.state.runs
    runs[body.name] = runs.get(body.name, 0) + 1
    if runs[body.name] <= body.conflicts:
        await session.execute(
            text(
                "DO $$ BEGIN RAISE EXCEPTION 'probe conflict' "
                f"USING ERRCODE = '{body.sqlstate}'; END $$"
            )
        )
    if body.fail_at_commit:

        @event.listens_for(session.sync_session, "before_commit")
        def _explode(_session: Any) -> None:
            raise RuntimeError("commit failed")

    if body.forget_respond:
        return {"id": str(issued.client.id)}
    return await idempotency.respond({"id": str(issued.client.id), "name": body.name})


@router.get("/orgs/{org_code}/thing")
async def org_thing(
    org_code: str, caller: Annotated[Caller, Authorized(Action.CLIENTS_SELF)]
) -> dict[str, str]:
    caller.ensure_sees(Tenant.union(org_code), "thing")
    return {"org_code": org_code}


@router.get("/boom")
async def boom() -> None:
    raise RuntimeError("internal detail for 310101199001011234 phone 13812345678")


@router.get("/numbers")
async def numbers(count: Annotated[int, Query(ge=1, le=10)]) -> dict[str, int]:
    return {"count": count}


def build_probe_app(settings: Settings) -> FastAPI:
    app = create_app(settings)
    app.include_router(router)
    app.state.gate = Gate()
    app.state.runs = {}  # a probe's runs by name, for the conflict retries
    return app
