"""The per-client rate limit: a burst, then 429 with `Retry-After`, per client, refilling."""

from __future__ import annotations

import uuid

import pytest

from app.clients.rate_limit import RateLimiter
from app.core.policy import Role
from app.main import create_app
from tests.support.clients import assert_problem
from tests.support.service import asgi_client, bearer, make_settings


@pytest.fixture
async def limited(settings):
    app = create_app(
        make_settings(
            settings.database_url,
            settings.var_dir,
            MUTUALAID_RATE_LIMIT_PER_SECOND=0.5,
            MUTUALAID_RATE_LIMIT_BURST=3,
        )
    )
    async with asgi_client(app) as http:
        yield http
    await app.state.runtime.close()


async def test_a_client_over_its_burst_gets_429_with_retry_after(limited, api_key, db):
    mine = bearer(await api_key(Role.CITIZEN_APP))
    other = bearer(await api_key(Role.CITIZEN_APP, name="other"))

    statuses = [(await limited.get("/v1/plans", headers=mine)).status_code for _ in range(3)]
    refused = await limited.get("/v1/plans", headers=mine)

    assert statuses == [200, 200, 200]
    assert_problem(refused, 429, "rate_limited")
    assert refused.headers["Retry-After"] in {"1", "2"}  # one token at 0.5 a second
    # Another client's bucket is its own.
    assert (await limited.get("/v1/plans", headers=other)).status_code == 200


async def test_unauthenticated_requests_are_not_counted_against_a_client(limited, api_key, db):
    mine = bearer(await api_key(Role.CITIZEN_APP))
    for _ in range(5):
        response = await limited.get("/v1/plans", headers={"Authorization": "Bearer nope"})
        assert response.status_code == 401
    assert (await limited.get("/v1/plans", headers=mine)).status_code == 200


def test_the_bucket_refills_at_the_configured_rate():
    clock = [100.0]
    limiter = RateLimiter(per_second=2, burst=2, now=lambda: clock[0])
    client = uuid.uuid4()

    assert [limiter.take(client), limiter.take(client)] == [None, None]
    assert limiter.take(client) == 1
    clock[0] += 0.5  # one token back
    assert limiter.take(client) is None
    assert limiter.take(client) == 1
    clock[0] += 60  # never more than the burst
    assert [limiter.take(client) for _ in range(3)] == [None, None, 1]


def test_a_zero_rate_turns_the_limit_off():
    limiter = RateLimiter(per_second=0, burst=1)
    client = uuid.uuid4()
    assert all(limiter.take(client) is None for _ in range(1000))


async def test_a_request_is_counted_once_however_many_of_its_parts_need_the_caller(
    settings, api_key, db
):
    """`POST /v1/probes/things` needs the caller twice: for its role and for its key."""
    from tests.support.probes import build_probe_app

    app = build_probe_app(
        make_settings(
            settings.database_url,
            settings.var_dir,
            MUTUALAID_RATE_LIMIT_PER_SECOND=0.01,
            MUTUALAID_RATE_LIMIT_BURST=2,
        )
    )
    mine = bearer(await api_key(Role.EXAMINER))
    try:
        async with asgi_client(app) as http:
            statuses = [
                (
                    await http.post(
                        "/v1/probes/things",
                        json={"name": f"thing-{n}"},
                        headers=mine | {"Idempotency-Key": f"key-{n}"},
                    )
                ).status_code
                for n in range(3)
            ]
    finally:
        await app.state.runtime.close()

    assert statuses == [201, 201, 429]
