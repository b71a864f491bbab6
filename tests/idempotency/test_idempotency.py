"""Idempotency-Key on POSTs that create things, on both databases.

The probe endpoint creates one API client row per effect, so the tests can count effects.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.clients.models import ApiClient
from app.core.clock import utc_now
from app.core.policy import Role
from app.idempotency.models import COMPLETED, IdempotencyRecord
from tests.support.service import bearer

URL = "/v1/probes/things"


async def effects(db, name: str) -> int:
    async with db.reader() as session:
        return await session.scalar(
            select(func.count()).select_from(ApiClient).where(ApiClient.name == name)
        )


async def stored(db, key: str) -> list[IdempotencyRecord]:
    async with db.reader() as session:
        return list(
            await session.scalars(select(IdempotencyRecord).where(IdempotencyRecord.key == key))
        )


async def test_same_key_and_body_replays_the_first_response(probe_client, api_key, db):
    headers = bearer(await api_key(Role.CITIZEN_APP)) | {"Idempotency-Key": "k-replay"}

    first = await probe_client.post(URL, json={"name": "replayed"}, headers=headers)
    again = await probe_client.post(URL, json={"name": "replayed"}, headers=headers)

    assert first.status_code == 201
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert await effects(db, "replayed") == 1
    [record] = await stored(db, "k-replay")
    assert record.state == COMPLETED
    assert record.response_status == 201


async def test_json_formatting_does_not_change_the_request_identity(probe_client, api_key, db):
    headers = bearer(await api_key(Role.CITIZEN_APP)) | {"Idempotency-Key": "k-format"}
    headers_json = headers | {"Content-Type": "application/json"}

    first = await probe_client.post(
        URL, content=b'{"name":"fmt","wait":false}', headers=headers_json
    )
    again = await probe_client.post(
        URL, content=b'{ "wait": false,\n  "name": "fmt" }', headers=headers_json
    )

    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert await effects(db, "fmt") == 1


async def test_same_key_with_a_different_body_is_422(probe_client, api_key, db):
    headers = bearer(await api_key(Role.CITIZEN_APP)) | {"Idempotency-Key": "k-mismatch"}

    first = await probe_client.post(URL, json={"name": "original"}, headers=headers)
    other = await probe_client.post(URL, json={"name": "changed"}, headers=headers)

    assert first.status_code == 201
    assert other.status_code == 422
    assert other.headers["content-type"] == "application/problem+json"
    assert other.json()["code"] == "idempotency_key_reused"
    assert await effects(db, "changed") == 0
    assert await effects(db, "original") == 1


async def test_same_key_on_another_path_is_422(probe_client, api_key):
    headers = bearer(await api_key(Role.CITIZEN_APP)) | {"Idempotency-Key": "k-path"}
    assert (await probe_client.post(URL, json={"name": "p"}, headers=headers)).status_code == 201

    other = await probe_client.post(URL + "?variant=2", json={"name": "p"}, headers=headers)

    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"


async def test_keys_are_scoped_to_the_client(probe_client, api_key, db):
    key = {"Idempotency-Key": "shared-key"}
    one = await probe_client.post(
        URL, json={"name": "scoped"}, headers=bearer(await api_key(Role.CITIZEN_APP)) | key
    )
    two = await probe_client.post(
        URL, json={"name": "scoped"}, headers=bearer(await api_key(Role.EXAMINER)) | key
    )

    assert one.status_code == two.status_code == 201
    assert "Idempotent-Replayed" not in two.headers
    assert one.json()["id"] != two.json()["id"]
    assert await effects(db, "scoped") == 2


@pytest.mark.parametrize("hold", ["wait", "wait_after_write"])
async def test_duplicate_while_the_first_is_in_flight_is_409(
    probe_app, probe_client, api_key, db, hold
):
    """Also while the first holds SQLite's write lock: the duplicate must not queue behind it."""
    gate = probe_app.state.gate
    gate.entered.clear()
    gate.release.clear()
    headers = bearer(await api_key(Role.CITIZEN_APP)) | {"Idempotency-Key": "k-inflight"}
    body = {"name": "inflight", hold: True}

    first = asyncio.create_task(probe_client.post(URL, json=body, headers=headers))
    await asyncio.wait_for(gate.entered.wait(), timeout=10)
    try:
        duplicate = await asyncio.wait_for(
            probe_client.post(URL, json=body, headers=headers), timeout=5
        )
    finally:
        gate.release.set()
    first_response = await asyncio.wait_for(first, timeout=10)
    later = await probe_client.post(URL, json=body, headers=headers)

    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == "idempotency_key_in_flight"
    assert duplicate.headers["Retry-After"] == "1"
    assert first_response.status_code == 201
    assert later.status_code == 201
    assert later.headers["Idempotent-Replayed"] == "true"
    assert later.json() == first_response.json()
    assert await effects(db, "inflight") == 1


async def test_a_burst_of_concurrent_duplicates_has_exactly_one_effect(probe_client, api_key, db):
    headers = bearer(await api_key(Role.CITIZEN_APP)) | {"Idempotency-Key": "k-burst"}

    responses = await asyncio.gather(
        *(probe_client.post(URL, json={"name": "burst"}, headers=headers) for _ in range(12))
    )

    statuses = sorted(r.status_code for r in responses)
    originals = [
        r for r in responses if r.status_code == 201 and "Idempotent-Replayed" not in r.headers
    ]
    assert set(statuses) <= {201, 409}, statuses
    assert len(originals) == 1
    ids = {r.json()["id"] for r in responses if r.status_code == 201}
    assert ids == {originals[0].json()["id"]}
    assert await effects(db, "burst") == 1


async def test_a_failed_request_stores_nothing_and_frees_the_key(probe_client, api_key, db):
    headers = bearer(await api_key(Role.CITIZEN_APP)) | {"Idempotency-Key": "k-fail"}

    failed = await probe_client.post(
        URL, json={"name": "half", "fail_after_write": True}, headers=headers
    )
    assert failed.status_code == 409
    assert failed.json()["code"] == "probe_refused"
    assert await effects(db, "half") == 0
    assert await stored(db, "k-fail") == []

    retried = await probe_client.post(URL, json={"name": "half"}, headers=headers)
    assert retried.status_code == 201
    assert "Idempotent-Replayed" not in retried.headers
    assert await effects(db, "half") == 1


async def test_a_failed_commit_is_a_500_not_a_201_and_frees_the_key(probe_client, api_key, db):
    headers = bearer(await api_key(Role.CITIZEN_APP)) | {"Idempotency-Key": "k-commit"}

    failed = await probe_client.post(
        URL, json={"name": "commit", "fail_at_commit": True}, headers=headers
    )

    assert failed.status_code == 500
    assert failed.json()["code"] == "internal_error"
    assert await effects(db, "commit") == 0
    assert await stored(db, "k-commit") == []


async def test_invalid_body_does_not_consume_the_key(probe_client, api_key, db):
    headers = bearer(await api_key(Role.CITIZEN_APP)) | {"Idempotency-Key": "k-invalid"}

    invalid = await probe_client.post(URL, json={"name": ""}, headers=headers)
    assert invalid.status_code == 422
    assert await stored(db, "k-invalid") == []

    fixed = await probe_client.post(URL, json={"name": "fixed"}, headers=headers)
    assert fixed.status_code == 201


async def test_a_claim_left_by_a_dead_process_is_taken_over_after_it_expires(
    probe_client, api_key, db
):
    headers = bearer(await api_key(Role.CITIZEN_APP)) | {"Idempotency-Key": "k-stale"}
    gate_free = {"name": "stale"}
    # A first attempt whose process "died": its claim stays in flight with an expired lock.
    async with db.writer() as session:
        client_id = (await session.scalars(select(ApiClient.id))).first()
    async with db.writer() as session:
        from app.idempotency.service import request_fingerprint

        fingerprint = request_fingerprint("POST", URL, "", "application/json", b'{"name": "stale"}')
        session.add(
            IdempotencyRecord(
                client_id=client_id,
                key="k-stale",
                request_hash=fingerprint,
                state="in_flight",
                lock_token=uuid.uuid4(),
                locked_until=utc_now() + timedelta(minutes=5),
            )
        )
        await session.commit()

    blocked = await probe_client.post(URL, json=gate_free, headers=headers)
    assert blocked.status_code == 409

    async with db.writer() as session:
        await session.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.key == "k-stale")
            .values(locked_until=utc_now() - timedelta(seconds=1))
        )
        await session.commit()
    taken_over = await probe_client.post(URL, json=gate_free, headers=headers)

    assert taken_over.status_code == 201
    assert await effects(db, "stale") == 1


@pytest.mark.parametrize(
    ("key", "problem_field"),
    [(None, "Idempotency-Key"), ("", "Idempotency-Key"), ("x" * 256, "Idempotency-Key")],
)
async def test_a_missing_or_malformed_key_is_a_validation_error(
    probe_client, api_key, db, key, problem_field
):
    headers = bearer(await api_key(Role.CITIZEN_APP))
    if key is not None:
        headers["Idempotency-Key"] = key

    response = await probe_client.post(URL, json={"name": "nokey"}, headers=headers)

    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "validation_error"
    assert [(e["field"], e["location"]) for e in problem["errors"]] == [(problem_field, "header")]
    assert await effects(db, "nokey") == 0


async def test_an_endpoint_that_forgets_to_respond_stores_nothing(probe_client, api_key, db):
    headers = bearer(await api_key(Role.CITIZEN_APP)) | {"Idempotency-Key": "k-forgot"}

    response = await probe_client.post(
        URL, json={"name": "forgot", "forget_respond": True}, headers=headers
    )

    assert response.status_code == 500
    assert await effects(db, "forgot") == 0
    assert await stored(db, "k-forgot") == []


async def test_query_parameter_order_does_not_change_the_request(probe_client, api_key, db):
    headers = bearer(await api_key(Role.CITIZEN_APP)) | {"Idempotency-Key": "k-query"}

    first = await probe_client.post(URL + "?a=1&b=2", json={"name": "q"}, headers=headers)
    again = await probe_client.post(URL + "?b=2&a=1", json={"name": "q"}, headers=headers)

    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"


async def test_purge_drops_old_completed_keys_and_abandoned_claims(probe_client, api_key, db):
    from app.idempotency.service import purge

    headers = bearer(await api_key(Role.CITIZEN_APP))
    for key in ("old", "fresh"):
        response = await probe_client.post(
            URL, json={"name": key}, headers=headers | {"Idempotency-Key": key}
        )
        assert response.status_code == 201
    async with db.writer() as session:
        await session.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.key == "old")
            .values(completed_at=utc_now() - timedelta(hours=25))
        )
        await session.commit()

    removed = await purge(
        db,
        completed_before=utc_now() - timedelta(hours=24),
        stale_before=utc_now() - timedelta(hours=1),
    )

    assert removed == 1
    assert await stored(db, "old") == []
    assert len(await stored(db, "fresh")) == 1
