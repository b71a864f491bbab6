"""The FastAPI side of idempotency: the `Idempotency` dependency and replays."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from app.clients.auth import CurrentCaller
from app.core.db import Database, SessionDep, on_rollback
from app.idempotency import service
from app.idempotency.service import Reservation, StoredResponse

REPLAY_HEADER = "Idempotent-Replayed"
_STORED_HEADERS = ("location",)


class _Replay(Exception):
    def __init__(self, stored: StoredResponse) -> None:
        self.stored = stored


class IdempotentRequest:
    """Handed to an endpoint that creates something; it must end with `await respond(...)`."""

    def __init__(self, session: SessionDep, reservation: Reservation) -> None:
        self._session = session
        self._reservation = reservation
        self.responded = False

    async def respond(
        self,
        content: BaseModel | dict[str, Any],
        *,
        status_code: int = 201,
        headers: dict[str, str] | None = None,
    ) -> JSONResponse:
        payload = content.model_dump(mode="json") if isinstance(content, BaseModel) else content
        response = JSONResponse(jsonable_encoder(payload), status_code=status_code, headers=headers)
        stored_headers = {
            name: value
            for name, value in (headers or {}).items()
            if name.lower() in _STORED_HEADERS
        }
        await service.complete(
            self._session,
            self._reservation,
            StoredResponse(status_code, bytes(response.body).decode("utf-8"), stored_headers),
        )
        self.responded = True
        return response


class IdempotencyMisuse(RuntimeError):
    """A programming error in an endpoint using `Idempotency`: fail the request, store nothing."""


async def _idempotent_request(
    request: Request,
    session: SessionDep,
    caller: CurrentCaller,
    idempotency_key: Annotated[
        str,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=255,
            pattern=r"^[\x21-\x7e]+$",
            description="A unique key per intended operation (a UUID is ideal). Retrying with the"
            " same key and body replays the first response instead of repeating the effect.",
        ),
    ],
) -> AsyncIterator[IdempotentRequest]:
    if session.in_transaction():
        # On SQLite the request would hold the write lock its own reservation needs, and wait for
        # itself. Declare `Idempotency` before anything that uses the session.
        raise IdempotencyMisuse(
            "the idempotency key must be reserved before the transaction starts"
        )
    db: Database = request.app.state.runtime.db
    fingerprint = service.request_fingerprint(
        request.method,
        request.url.path,
        request.url.query,
        request.headers.get("content-type"),
        await request.body(),
    )
    outcome = await service.reserve(
        db,
        caller.client_id,
        idempotency_key,
        fingerprint,
        request.app.state.settings.idempotency_lock_seconds,
    )
    if isinstance(outcome, StoredResponse):
        raise _Replay(outcome)

    async def _release() -> None:
        await service.release(db, outcome)

    on_rollback(session, _release)
    handle = IdempotentRequest(session, outcome)
    yield handle
    if not handle.responded:
        # The effect must not commit without its stored response, or a retry would repeat it.
        raise IdempotencyMisuse("the endpoint returned without `await idempotency.respond(...)`")


Idempotency = Annotated[IdempotentRequest, Depends(_idempotent_request, scope="function")]


async def _replay(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, _Replay)
    headers = dict(exc.stored.headers)
    headers[REPLAY_HEADER] = "true"
    return Response(
        exc.stored.body,
        status_code=exc.stored.status,
        headers=headers,
        media_type="application/json",
    )


def install_idempotency(app: FastAPI) -> None:
    app.add_exception_handler(_Replay, _replay)
