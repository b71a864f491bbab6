"""On PostgreSQL: the key claimed by the first statement of the request's own transaction.

The request's transaction begins with one statement that takes a transaction-level advisory
lock on the key (`pg_try_advisory_xact_lock`, which never waits) and reads the key's row:

- lock not granted: another request with this key is running -> 409 `idempotency_key_in_flight`;
- a completed row: replayed, or 422 `idempotency_key_reused` for another request;
- a row still `in_flight` (left by a reservation of the SQLite kind, see `service.reserve`):
  409 while its lock lives, taken over once it expired;
- no row: the request runs, and `store` writes the completed row with its answer, in the same
  transaction as the effect (queued with the effect's own rows when it has some).

Nothing is committed before the effect, so a failed request leaves nothing behind: its rollback
releases the lock and there is no row to delete. A concurrent duplicate never waits on the
unique index (it fails to get the lock instead), and the first request's answer is what every
retry after it replays. If the first commits between a duplicate's read and its lock, the
duplicate finds the row only when it writes its own: 409, and its effect is rolled back.

The claim is made before the endpoint runs, so its transaction is open while the endpoint works:
an endpoint that calls another service first (an enrolment asks the platform) uses the
committed reservation instead (`IdempotencyReservedFirst`), and holds no transaction meanwhile.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

from sqlalchemy import BigInteger, and_, bindparam, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import sealing, writes
from app.core.clock import utc_now
from app.idempotency.models import COMPLETED, IN_FLIGHT, IdempotencyRecord
from app.idempotency.service import KeyRow, Replay, StoredResponse, in_flight, settled

_KEY_LOCK_BYTES = 8
_record = IdempotencyRecord.__table__
_record_body = IdempotencyRecord.response_body
_one = select(literal(1).label("one")).subquery("one")
_CLAIM_STATEMENT = select(
    func.pg_try_advisory_xact_lock(bindparam("lock", type_=BigInteger)).label("free"),
    *(
        _record.c[name]
        for name in (
            "request_hash",
            "state",
            "lock_token",
            "locked_until",
            "response_status",
            "response_cipher",
            "response_headers",
        )
    ),
).select_from(
    _one.outerjoin(
        _record,
        and_(_record.c.client_id == bindparam("client_id"), _record.c.key == bindparam("key")),
    )
)


@dataclass
class Claim:
    """One request's hold on its key, from the first statement of its transaction on."""

    client_id: uuid.UUID
    key: str
    fingerprint: str
    # The token of an abandoned `in_flight` row this request took over, if it did.
    taken_over: uuid.UUID | None = None

    @property
    def lock(self) -> int:
        """The advisory lock's number: 64 bits of a digest of client and key."""
        digest = hashlib.sha256(f"{self.client_id}:{self.key}".encode()).digest()
        return int.from_bytes(digest[:_KEY_LOCK_BYTES], "big", signed=True)

    async def run(self, session: AsyncSession) -> None:
        """Lock the key and read it, first thing in the transaction (raises to replay or
        refuse)."""
        connection = await session.connection()
        found = (
            await connection.execute(
                _CLAIM_STATEMENT,
                {"lock": self.lock, "client_id": self.client_id, "key": self.key},
            )
        ).one()
        if not found.free:
            raise in_flight()
        if found.state is None:
            return
        row = KeyRow(
            found.request_hash,
            found.state,
            found.locked_until,
            found.response_status,
            _record_body.opened(found.response_cipher, sealing.cipher_of(session)),
            found.response_headers,
        )
        stored = settled(row, self.fingerprint, utc_now())  # raises: live holder, other request
        if stored is not None:
            raise Replay(stored)
        self.taken_over = found.lock_token


async def store(session: AsyncSession, claim: Claim, response: StoredResponse) -> None:
    """Write the answer beside the effect; with the effect's queued rows, in one statement."""
    cipher = sealing.cipher_of(session)
    if claim.taken_over is not None:
        await _complete_taken_over(session, claim, response)
        return
    record = IdempotencyRecord(
        client_id=claim.client_id,
        key=claim.key,
        request_hash=claim.fingerprint,
        state=COMPLETED,
        response_status=response.status,
        response_headers=response.headers,
        completed_at=utc_now(),
    )
    record.response_cipher = IdempotencyRecord.response_body.sealed(response.body, cipher)
    queued = writes.pending(session)
    queued.add_new(session, record, ("client_id", "key"), in_flight())
    await writes.flush(session)


async def _complete_taken_over(
    session: AsyncSession, claim: Claim, response: StoredResponse
) -> None:
    result = await session.execute(
        update(IdempotencyRecord)
        .where(
            IdempotencyRecord.client_id == claim.client_id,
            IdempotencyRecord.key == claim.key,
            IdempotencyRecord.lock_token == claim.taken_over,
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
        raise in_flight()
