"""A transaction PostgreSQL aborts as a serialization failure (40001) or a deadlock (40P01) is
run again inside the request; if it keeps failing the client gets 503 `transaction_conflict`
with Retry-After, nothing is stored, and the Idempotency-Key is free for the client's retry.

The probe route (tests/support/probes.py) raises the real PostgreSQL error in the request's own
transaction, after it has written, on its first n runs."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.clients.models import ApiClient
from app.core.conflict_retry import ATTEMPTS, CONFLICT_MARK
from app.core.policy import Role
from tests.support.clients import assert_problem
from tests.support.service import bearer

pytestmark = pytest.mark.only_backend("postgresql")
URL = "/v1/probes/things"


async def made(db, name: str) -> int:
    async with db.reader() as session:
        return await session.scalar(
            select(func.count()).select_from(ApiClient).where(ApiClient.name == name)
        )


@pytest.mark.parametrize("sqlstate", ["40001", "40P01"])
async def test_a_conflict_is_run_again_and_done_once(probe_client, api_key, db, sqlstate):
    headers = bearer(await api_key(Role.EXAMINER)) | {"Idempotency-Key": f"c-{sqlstate}"}
    body = {"name": f"again-{sqlstate}", "conflicts": ATTEMPTS - 1, "sqlstate": sqlstate}

    answer = await probe_client.post(URL, json=body, headers=headers)

    assert answer.status_code == 201, answer.text
    assert CONFLICT_MARK.decode() not in answer.headers
    assert await made(db, body["name"]) == 1
    replayed = await probe_client.post(URL, json=body, headers=headers)
    assert replayed.json() == answer.json()


async def test_a_conflict_that_persists_is_a_503_and_leaves_nothing(probe_client, api_key, db):
    headers = bearer(await api_key(Role.EXAMINER)) | {"Idempotency-Key": "c-persists"}
    body = {"name": "persists", "conflicts": ATTEMPTS}

    refused = await probe_client.post(URL, json=body, headers=headers)

    assert_problem(refused, 503, "transaction_conflict")
    assert refused.headers["retry-after"] == "1"
    assert CONFLICT_MARK.decode() not in refused.headers
    assert await made(db, "persists") == 0
    # The client's own retry, with the same key, is served (the key was rolled back too).
    again = await probe_client.post(URL, json=body, headers=headers)
    assert again.status_code == 201, again.text
    assert await made(db, "persists") == 1
