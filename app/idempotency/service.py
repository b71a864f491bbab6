"""Claiming, completing and releasing idempotency keys (see the package docstring)."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import utc_now
from app.core.db import Database
from app.core.errors import Conflict, Unprocessable
from app.idempotency.models import COMPLETED, IN_FLIGHT, IdempotencyRecord

_CLAIM_ATTEMPTS = 3


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: str
    headers: dict[str, str]


@dataclass(frozen=True)
class Claim:
    client_id: uuid.UUID
    key: str
    token: uuid.UUID


def request_fingerprint(method: str, path: str, query: str, body: bytes) -> str:
    """SHA-256 of what makes two requests "the same": method, path, query and body.

    A JSON body is canonicalised (sorted keys, no whitespace) so that a client re-serialising the
    same object does not trip the mismatch check; any other body is hashed byte for byte.
    """
    try:
        canonical = json.dumps(
            json.loads(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()
    except (ValueError, UnicodeDecodeError):
        canonical = body
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), query.encode()):
        digest.update(part + b"\n")
    digest.update(canonical)
    return digest.hexdigest()


async def claim(
    db: Database, client_id: uuid.UUID, key: str, fingerprint: str, lock_seconds: int
) -> Claim | StoredResponse:
    """Claim the key for this request, or return the response to replay.

    Raises 409 while another request holds the key and 422 when the key was used for a
    different request.
    """
    for _ in range(_CLAIM_ATTEMPTS):
        token = uuid.uuid4()
        now = utc_now()
        async with db.writer() as session:
            session.add(
                IdempotencyRecord(
                    client_id=client_id,
                    key=key,
                    request_hash=fingerprint,
                    state=IN_FLIGHT,
                    lock_token=token,
                    locked_until=now + timedelta(seconds=lock_seconds),
                )
            )
            try:
                await session.commit()
                return Claim(client_id, key, token)
            except IntegrityError:
                await session.rollback()

        async with db.writer() as session:
            record = await session.get(IdempotencyRecord, (client_id, key))
            if record is None:
                continue  # released between our insert and this read: try again
            if record.request_hash != fingerprint:
                raise Unprocessable(
                    "this Idempotency-Key was already used for a different request",
                    code="idempotency_key_reused",
                )
            if record.state == COMPLETED:
                assert record.response_status is not None
                assert record.response_body is not None
                return StoredResponse(
                    record.response_status, record.response_body, record.response_headers or {}
                )
            assert record.locked_until is not None
            if record.locked_until > now:
                raise _in_flight()
            taken = await session.execute(
                update(IdempotencyRecord)
                .where(
                    IdempotencyRecord.client_id == client_id,
                    IdempotencyRecord.key == key,
                    IdempotencyRecord.lock_token == record.lock_token,
                )
                .values(lock_token=token, locked_until=now + timedelta(seconds=lock_seconds))
            )
            await session.commit()
            if taken.rowcount == 1:  # type: ignore[attr-defined]
                return Claim(client_id, key, token)
            raise _in_flight()
    raise _in_flight()


async def complete(session: AsyncSession, claim_: Claim, response: StoredResponse) -> None:
    """Store the response in the request's transaction, next to the effect it describes."""
    result = await session.execute(
        update(IdempotencyRecord)
        .where(
            IdempotencyRecord.client_id == claim_.client_id,
            IdempotencyRecord.key == claim_.key,
            IdempotencyRecord.lock_token == claim_.token,
            IdempotencyRecord.state == IN_FLIGHT,
        )
        .values(
            state=COMPLETED,
            lock_token=None,
            locked_until=None,
            response_status=response.status,
            response_body=response.body,
            response_headers=response.headers,
            completed_at=utc_now(),
        )
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        # Our lock expired and another request took the key over: let it win, undo our effect.
        raise _in_flight()


async def release(db: Database, claim_: Claim) -> None:
    """Give the key back after a rollback, so the client may retry with it."""
    async with db.writer() as session:
        await session.execute(
            delete(IdempotencyRecord).where(
                IdempotencyRecord.client_id == claim_.client_id,
                IdempotencyRecord.key == claim_.key,
                IdempotencyRecord.lock_token == claim_.token,
                IdempotencyRecord.state == IN_FLIGHT,
            )
        )
        await session.commit()


async def find(session: AsyncSession, client_id: uuid.UUID, key: str) -> IdempotencyRecord | None:
    result = await session.scalars(
        select(IdempotencyRecord).where(
            IdempotencyRecord.client_id == client_id, IdempotencyRecord.key == key
        )
    )
    return result.first()


def _in_flight() -> Conflict:
    return Conflict(
        "a request with this Idempotency-Key is still being processed; retry later",
        code="idempotency_key_in_flight",
        headers={"Retry-After": "1"},
    )
