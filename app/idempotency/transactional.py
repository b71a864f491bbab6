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
An endpoint whose work starts with one read (a claim locks its member) may have the key claimed
by that read's statement instead of one of its own (`run_with`, `IdempotencyWithFirstRead`):
one round trip fewer. If that read waits for a row lock, the key's row is read as it was
before the wait, which changes nothing above: a duplicate that committed meanwhile is found
when the answer is stored.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, and_, bindparam, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import sealing, writes
from app.core.clock import utc_now
from app.core.reads import Query
from app.idempotency.models import COMPLETED, IN_FLIGHT, IdempotencyRecord
from app.idempotency.service import KeyRow, Replay, StoredResponse, in_flight, settled

_KEY_LOCK_BYTES = 8
_record = IdempotencyRecord.__table__
_record_body = IdempotencyRecord.response_body
_one = select(literal(1).label("one")).subquery("one")
_KEY_COLUMNS = (
    func.pg_try_advisory_xact_lock(bindparam("idempotency_lock", type_=BigInteger)).label(
        "idempotency_free"
    ),
    *(
        _record.c[name].label(f"idempotency_{name}")
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
)
_KEY_ROW = and_(
    _record.c.client_id == bindparam("idempotency_client_id"),
    _record.c.key == bindparam("idempotency_key"),
)
_CLAIM_STATEMENT = select(*_KEY_COLUMNS).select_from(_one.outerjoin(_record, _KEY_ROW))


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

    claimed: bool = False

    @property
    def _params(self) -> dict[str, object]:
        return {
            "idempotency_lock": self.lock,
            "idempotency_client_id": self.client_id,
            "idempotency_key": self.key,
        }

    async def run(self, session: AsyncSession) -> None:
        """Lock the key and read it, first thing in the transaction (raises to replay or
        refuse)."""
        connection = await session.connection()
        found = (await connection.execute(_CLAIM_STATEMENT, self._params)).one()
        self._settle(session, found)

    async def run_with(self, session: AsyncSession, first: Query) -> tuple[Any, ...] | None:
        """Claim the key in the statement of the endpoint's first read, `first`: its first row
        (what it selects), or None when it finds nothing, and then the key is left alone and
        the request must fail. `first` selects from one table, and if it locks rows, only that
        table's (`with_for_update(of=...)`)."""
        width = len(first.column_descriptions)
        keyed = first.add_columns(*_KEY_COLUMNS).outerjoin(_record, _KEY_ROW)
        found = (await session.execute(keyed, self._params)).first()
        if found is None:
            return None
        self._settle(session, found[width:])
        return tuple(found[:width])

    def _settle(self, session: AsyncSession, found: Sequence[Any]) -> None:
        free, request_hash, state, lock_token, locked_until, status, body, headers = found
        if not free:
            raise in_flight()
        if state is not None:
            row = KeyRow(
                request_hash,
                state,
                locked_until,
                status,
                _record_body.opened(body, sealing.cipher_of(session)),
                headers,
            )
            stored = settled(row, self.fingerprint, utc_now())  # raises: live holder, other
            if stored is not None:
                raise Replay(stored)
            self.taken_over = lock_token
        self.claimed = True


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
