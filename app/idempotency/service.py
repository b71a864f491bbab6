"""Reserving, completing and releasing idempotency keys (see the package docstring)."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlencode

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import sealing
from app.core.clock import utc_now
from app.core.db import Database
from app.core.errors import Conflict, Unprocessable
from app.core.purging import delete_in_steps
from app.idempotency.models import COMPLETED, IN_FLIGHT, IdempotencyRecord

_CLAIM_ATTEMPTS = 3


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: str
    headers: dict[str, str]


class Replay(Exception):
    """Raised to answer a request with the stored response of the first one."""

    def __init__(self, stored: StoredResponse) -> None:
        self.stored = stored


@dataclass(frozen=True)
class Reservation:
    client_id: uuid.UUID
    key: str
    token: uuid.UUID


def request_fingerprint(
    method: str, path: str, query: str, content_type: str | None, body: bytes
) -> str:
    """SHA-256 of what makes two requests "the same": method, path, query, media type, body.

    Query parameters are compared as a sorted list and a JSON body canonicalised (sorted keys, no
    whitespace), so a client re-serialising the same request does not trip the mismatch check;
    any other body is hashed byte for byte.
    """
    try:
        canonical = json.dumps(
            json.loads(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()
    except (ValueError, UnicodeDecodeError):
        canonical = body
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    digest = hashlib.sha256()
    for part in (method.upper(), path, urlencode(sorted(parse_qsl(query, True))), media_type):
        digest.update(part.encode() + b"\n")
    digest.update(canonical)
    return digest.hexdigest()


async def reserve(
    db: Database, client_id: uuid.UUID, key: str, fingerprint: str, lock_seconds: int
) -> Reservation | StoredResponse:
    """Reserve the key for this request, or return the response to replay (SQLite: see the
    package docstring).

    Raises 409 while another request holds the key and 422 when the key was used for a
    different request. The key is looked up in a read transaction first: on SQLite a writer may
    hold the database while it works, and a reader in WAL mode does not wait for it, so a
    duplicate is answered at once instead of queueing behind the request it duplicates.
    """
    for _ in range(_CLAIM_ATTEMPTS):
        now = utc_now()
        async with db.reader() as session:
            record = await session.get(IdempotencyRecord, (client_id, key))
        if record is not None:
            stored = settled(KeyRow.of(record), fingerprint, now)
            if stored is not None:
                return stored
            taken = await _take_over(db, record, lock_seconds)
            if taken is not None:
                return taken
            continue
        token = uuid.uuid4()
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
                return Reservation(client_id, key, token)
            except IntegrityError:
                await session.rollback()  # claimed between our read and our write: look again
    raise in_flight()


@dataclass(frozen=True)
class KeyRow:
    """A stored key as both ways of claiming it read it."""

    request_hash: str
    state: str
    locked_until: datetime | None
    response_status: int | None
    response_body: str | None
    response_headers: dict[str, str] | None

    @classmethod
    def of(cls, record: IdempotencyRecord) -> KeyRow:
        return cls(
            record.request_hash,
            record.state,
            record.locked_until,
            record.response_status,
            record.response_body,
            record.response_headers,
        )


def settled(record: KeyRow, fingerprint: str, now: datetime) -> StoredResponse | None:
    """The response to replay; raises for a mismatch or a live reservation; None for a dead one."""
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
        raise in_flight()
    return None


async def _take_over(
    db: Database, record: IdempotencyRecord, lock_seconds: int
) -> Reservation | None:
    """Take over a reservation whose holder died (its lock expired); None if someone else did."""
    token = uuid.uuid4()
    async with db.writer() as session:
        taken = await session.execute(
            update(IdempotencyRecord)
            .where(
                IdempotencyRecord.client_id == record.client_id,
                IdempotencyRecord.key == record.key,
                IdempotencyRecord.state == IN_FLIGHT,
                IdempotencyRecord.lock_token == record.lock_token,
            )
            .values(lock_token=token, locked_until=utc_now() + timedelta(seconds=lock_seconds))
        )
        await session.commit()
    if taken.rowcount == 1:  # type: ignore[attr-defined]
        return Reservation(record.client_id, record.key, token)
    return None


async def complete(
    session: AsyncSession, reservation: Reservation, response: StoredResponse
) -> None:
    """Store the response in the request's transaction, next to the effect it describes."""
    result = await session.execute(
        update(IdempotencyRecord)
        .where(
            IdempotencyRecord.client_id == reservation.client_id,
            IdempotencyRecord.key == reservation.key,
            IdempotencyRecord.lock_token == reservation.token,
            IdempotencyRecord.state == IN_FLIGHT,
        )
        .values(
            state=COMPLETED,
            lock_token=None,
            locked_until=None,
            response_status=response.status,
            response_cipher=IdempotencyRecord.response_body.sealed(
                response.body, sealing.cipher_of(session)
            ),
            response_headers=response.headers,
            completed_at=utc_now(),
        )
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        # Our lock expired and another request took the key over: let it win, undo our effect.
        raise in_flight()


async def release(db: Database, reservation: Reservation) -> None:
    """Give the key back after a rollback, so the client may retry with it."""
    async with db.writer() as session:
        await session.execute(
            delete(IdempotencyRecord).where(
                IdempotencyRecord.client_id == reservation.client_id,
                IdempotencyRecord.key == reservation.key,
                IdempotencyRecord.lock_token == reservation.token,
                IdempotencyRecord.state == IN_FLIGHT,
            )
        )
        await session.commit()


ABANDONED_CLAIM_HOURS = 1


async def purge(db: Database, *, completed_before: datetime, stale_before: datetime) -> int:
    """Delete completed keys older than the retention, and reservations abandoned long ago, in
    small steps (`app.core.purging`)."""
    return await delete_in_steps(
        db,
        IdempotencyRecord,
        or_(
            (IdempotencyRecord.state == COMPLETED)
            & (IdempotencyRecord.completed_at < completed_before),
            (IdempotencyRecord.state == IN_FLIGHT)
            & (IdempotencyRecord.locked_until < stale_before),
        ),
    )


async def purge_older_than(db: Database, hours: int) -> int:
    """Purge with the retention in hours; reservations abandoned for an hour go too."""
    now = utc_now()
    return await purge(
        db,
        completed_before=now - timedelta(hours=hours),
        stale_before=now - timedelta(hours=ABANDONED_CLAIM_HOURS),
    )


async def find(session: AsyncSession, client_id: uuid.UUID, key: str) -> IdempotencyRecord | None:
    result = await session.scalars(
        select(IdempotencyRecord).where(
            IdempotencyRecord.client_id == client_id, IdempotencyRecord.key == key
        )
    )
    return result.first()


def in_flight() -> Conflict:
    return Conflict(
        "a request with this Idempotency-Key is still being processed; retry later",
        code="idempotency_key_in_flight",
        headers={"Retry-After": "1"},
    )
