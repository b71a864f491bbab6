"""What filing a claim costs the database on PostgreSQL: one transaction, its Idempotency-Key
claimed and stored in it, and three statements (the claim path's budget, issue 18)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import event, func, select

from app.idempotency.models import IdempotencyRecord
from tests.support.claims import claim, file

pytestmark = pytest.mark.only_backend("postgresql")


@contextlib.contextmanager
def counted(engine) -> Iterator[dict[str, int]]:
    """Transactions begun and statements sent on `engine` meanwhile."""
    seen = {"transactions": 0, "statements": 0}

    def began(_conn):
        seen["transactions"] += 1

    def sent(*_args):
        seen["statements"] += 1

    sync = engine.sync_engine
    event.listen(sync, "begin", began)
    event.listen(sync, "before_cursor_execute", sent)
    try:
        yield seen
    finally:
        event.remove(sync, "begin", began)
        event.remove(sync, "before_cursor_execute", sent)


async def test_an_approved_claim_is_one_transaction_of_three_statements(
    app, http, covered, citizen, db
):
    [rider] = await covered()
    warm = await file(
        http, citizen, claim(rider, "accident_condolence", "accident", date(2026, 3, 1), "a1")
    )
    assert warm.status_code == 201, warm.text  # the caller's key is cached from here on

    with counted(app.state.runtime.db.engine) as seen:
        filed = await file(
            http,
            citizen,
            claim(rider, "accident_condolence", "accident", date(2026, 3, 2), "a2"),
            key="one-transaction",
        )

    assert (filed.status_code, filed.json()["status"]) == (201, "approved")
    # The key claimed with the member's lock, every read, every write: three statements.
    assert seen == {"transactions": 1, "statements": 3}
    async with db.reader() as session:
        stored = await session.scalar(
            select(func.count())
            .select_from(IdempotencyRecord)
            .where(IdempotencyRecord.key == "one-transaction")
        )
    assert stored == 1
