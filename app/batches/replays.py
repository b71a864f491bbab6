"""The upload's `Idempotency-Key`, reserved once the upload has been read.

Any other request is fingerprinted from its body before its work starts; an upload is read as
it arrives (it may be 64 MiB), so its fingerprint, a hash taken while reading (of the bytes of
a CSV file, of the canonical form of a JSON one), is known only at its end. The key is reserved
then (`app.idempotency.service`), before the transaction that stores the batch commits: the
same key and upload replays the first answer, another upload under the key is 422
`idempotency_key_reused`, a duplicate still running is 409 `idempotency_key_in_flight`, and a
failed upload frees its key, as everywhere else. A key already answered is checked before
anything is staged: the upload is then only read to compare it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import Database
from app.core.errors import Conflict
from app.idempotency import service as keys
from app.idempotency.deps import REPLAY_HEADER
from app.idempotency.models import COMPLETED
from app.idempotency.service import Reservation, StoredResponse


@dataclass(frozen=True)
class UploadKey:
    """What identifies an upload: the client's key and the request it was sent with."""

    client_id: uuid.UUID
    key: str
    method: str
    path: str
    query: str
    content_type: str | None

    def fingerprint(self, body_digest: bytes) -> str:
        """The request's fingerprint as for any other, the body's hash standing for the body."""
        return keys.request_fingerprint(
            self.method,
            self.path,
            self.query,
            self.content_type,
            b"upload-sha256:" + body_digest.hex().encode(),
        )


async def answered(db: Database, upload: UploadKey) -> bool:
    """Whether the key already has an answer (to replay, or to refuse another upload under)."""
    async with db.reader() as session:
        record = await keys.find(session, upload.client_id, upload.key)
    return record is not None and record.state == COMPLETED


async def reserve(
    db: Database, upload: UploadKey, body_digest: bytes, lock_seconds: int
) -> Reservation | Response:
    """The key reserved for this upload, or the answer to replay; raises 422 for another
    upload under the key and 409 while a duplicate runs."""
    outcome = await keys.reserve(
        db, upload.client_id, upload.key, upload.fingerprint(body_digest), lock_seconds
    )
    if isinstance(outcome, StoredResponse):
        return replayed(outcome)
    return outcome


async def replay_only(
    db: Database, upload: UploadKey, body_digest: bytes, lock_seconds: int
) -> Response:
    """The answer to an upload whose key was already answered (nothing of it was staged)."""
    outcome = await reserve(db, upload, body_digest, lock_seconds)
    if isinstance(outcome, Response):
        return outcome
    # The answer expired between the look and the reservation: free the key for a new try.
    await keys.release(db, outcome)
    raise Conflict(
        "this Idempotency-Key's earlier answer has just expired; send the upload again",
        code="idempotency_key_in_flight",
        headers={"Retry-After": "1"},
    )


def replayed(stored: StoredResponse) -> Response:
    headers = dict(stored.headers)
    headers[REPLAY_HEADER] = "true"
    return Response(
        stored.body, status_code=stored.status, headers=headers, media_type="application/json"
    )


async def answer(
    session: AsyncSession,
    reservation: Reservation,
    content: BaseModel,
    status: int,
    location: str,
) -> JSONResponse:
    """The response, stored under the key in the transaction that stores the batch."""
    response = JSONResponse(
        jsonable_encoder(content.model_dump(mode="json")),
        status_code=status,
        headers={"Location": location},
    )
    stored = StoredResponse(status, bytes(response.body).decode(), {"Location": location})
    await keys.complete(session, reservation, stored)
    return response
