"""The FastAPI side of idempotency: the `Idempotency` dependencies and replays.

`Idempotency` claims the key with the first statement of the request's own transaction on
PostgreSQL (`transactional`), and with a reservation committed before it on SQLite (`service`),
whose writers queue for one lock and could not see an uncommitted claim.
`IdempotencyReservedFirst` takes the committed reservation on both databases: for an endpoint
that calls another service before its transaction begins (an enrolment asks the platform), which
must hold no transaction meanwhile while a duplicate is still refused at once.
`IdempotencyWithFirstRead` claims the key on PostgreSQL with the endpoint's own first read
(`await idempotency.first(query)`, see `transactional.Claim.run_with`), which must come before
anything else the endpoint sends: a claim's first read locks its member.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from app.clients.auth import CurrentCaller
from app.core.db import Database, SessionDep, on_rollback
from app.core.policy import Caller
from app.core.reads import Query
from app.idempotency import service, transactional
from app.idempotency.service import Replay, Reservation, StoredResponse

REPLAY_HEADER = "Idempotent-Replayed"
# Replayed with the answer: where it is, and that it must not be cached (a secret shown once).
_STORED_HEADERS = ("location", "cache-control")


class IdempotentRequest:
    """Handed to an endpoint that creates something; it must end with `await respond(...)`."""

    def __init__(self, session: SessionDep, held: Reservation | transactional.Claim) -> None:
        self._session = session
        self._held = held
        self.responded = False

    async def first(self, query: Query) -> tuple[Any, ...] | None:
        """The endpoint's first read, its first row or None; with `IdempotencyWithFirstRead`
        on PostgreSQL the key is claimed in the same statement (raising to replay or refuse),
        and None leaves it alone (the endpoint must then fail)."""
        if isinstance(self._held, transactional.Claim) and not self._held.claimed:
            return await self._held.run_with(self._session, query)
        found = (await self._session.execute(query)).first()
        return None if found is None else tuple(found)

    async def respond(
        self,
        content: BaseModel | dict[str, Any],
        *,
        status_code: int = 201,
        headers: dict[str, str] | None = None,
    ) -> Response:
        if isinstance(self._held, transactional.Claim) and not self._held.claimed:
            raise IdempotencyMisuse("the key was never claimed: `first(...)` found nothing")
        response: Response
        if isinstance(content, BaseModel):
            # Serialised by pydantic itself: the answer and what is stored are one string.
            response = Response(
                content.model_dump_json(),
                status_code=status_code,
                headers=headers,
                media_type="application/json",
            )
        else:
            response = JSONResponse(
                jsonable_encoder(content), status_code=status_code, headers=headers
            )
        stored_headers = {
            name: value
            for name, value in (headers or {}).items()
            if name.lower() in _STORED_HEADERS
        }
        stored = StoredResponse(status_code, bytes(response.body).decode("utf-8"), stored_headers)
        if isinstance(self._held, transactional.Claim):
            await transactional.store(self._session, self._held, stored)
        else:
            await service.complete(self._session, self._held, stored)
        self.responded = True
        return response


class IdempotencyMisuse(RuntimeError):
    """A programming error in an endpoint using `Idempotency`: fail the request, store nothing."""


_KEY_HEADER = Header(
    alias="Idempotency-Key",
    min_length=1,
    max_length=255,
    pattern=r"^[\x21-\x7e]+$",
    description="A unique key per intended operation (a UUID is ideal). Retrying with the"
    " same key and body replays the first response instead of repeating the effect.",
)


async def _idempotent_request(
    request: Request,
    session: SessionDep,
    caller: CurrentCaller,
    idempotency_key: Annotated[str, _KEY_HEADER],
) -> AsyncIterator[IdempotentRequest]:
    async for handle in _held(request, session, caller, idempotency_key, reserve_first=False):
        yield handle


async def _with_first_read(
    request: Request,
    session: SessionDep,
    caller: CurrentCaller,
    idempotency_key: Annotated[str, _KEY_HEADER],
) -> AsyncIterator[IdempotentRequest]:
    async for handle in _held(
        request, session, caller, idempotency_key, reserve_first=False, with_first_read=True
    ):
        yield handle


async def _reserved_first(
    request: Request,
    session: SessionDep,
    caller: CurrentCaller,
    idempotency_key: Annotated[str, _KEY_HEADER],
) -> AsyncIterator[IdempotentRequest]:
    async for handle in _held(request, session, caller, idempotency_key, reserve_first=True):
        yield handle


async def _held(
    request: Request,
    session: AsyncSession,
    caller: Caller,
    key: str,
    *,
    reserve_first: bool,
    with_first_read: bool = False,
) -> AsyncIterator[IdempotentRequest]:
    db: Database = request.app.state.runtime.db
    fingerprint = service.request_fingerprint(
        request.method,
        request.url.path,
        request.url.query,
        request.headers.get("content-type"),
        await request.body(),
    )
    held: Reservation | transactional.Claim
    if db.is_sqlite or reserve_first:
        lock_seconds = request.app.state.settings.idempotency_lock_seconds
        held = await _reserve(db, session, caller, key, fingerprint, lock_seconds)
    else:
        held = transactional.Claim(caller.client_id, key, fingerprint)
        if not with_first_read:
            await held.run(session)
    handle = IdempotentRequest(session, held)
    yield handle
    if not handle.responded:
        # The effect must not commit without its stored response, or a retry would repeat it.
        raise IdempotencyMisuse("the endpoint returned without `await idempotency.respond(...)`")


async def _reserve(
    db: Database,
    session: AsyncSession,
    caller: Caller,
    key: str,
    fingerprint: str,
    lock_seconds: int,
) -> Reservation:
    """SQLite: a reservation committed before the request's transaction begins."""
    if session.in_transaction():
        # The request would hold the write lock its own reservation needs, and wait for
        # itself. Declare `Idempotency` before anything that uses the session.
        raise IdempotencyMisuse(
            "the idempotency key must be reserved before the transaction starts"
        )
    outcome = await service.reserve(db, caller.client_id, key, fingerprint, lock_seconds)
    if isinstance(outcome, StoredResponse):
        raise Replay(outcome)

    async def _release() -> None:
        await service.release(db, outcome)

    on_rollback(session, _release)
    return outcome


Idempotency = Annotated[IdempotentRequest, Depends(_idempotent_request, scope="function")]
IdempotencyReservedFirst = Annotated[IdempotentRequest, Depends(_reserved_first, scope="function")]
IdempotencyWithFirstRead = Annotated[IdempotentRequest, Depends(_with_first_read, scope="function")]


async def _replay(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Replay)
    headers = dict(exc.stored.headers)
    headers[REPLAY_HEADER] = "true"
    return Response(
        exc.stored.body,
        status_code=exc.stored.status,
        headers=headers,
        media_type="application/json",
    )


def install_idempotency(app: FastAPI) -> None:
    app.add_exception_handler(Replay, _replay)
