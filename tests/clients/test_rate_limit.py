"""Rate limits by kind of client: a platform's look-ups far above a government app's requests,
a client's own rate over its role's, 429 with `Retry-After` beyond it, and `X-RateLimit-*` on
every authenticated answer."""

from __future__ import annotations

import uuid

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.clients.rate_limit import BURST_SECONDS, ROLE_RATE_LIMITS, RateLimiter
from app.core.policy import Caller, Role
from app.main import create_app
from tests.support.clients import assert_problem
from tests.support.service import asgi_client, bearer, make_settings


def caller(role: Role, own: int | None = None) -> Caller:
    org = "demo-delivery" if role is Role.PLATFORM else None
    return Caller(uuid.uuid4(), "c", role, org, rate_limit_per_second=own)


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


def refused_at(
    limiter: RateLimiter, clock: Clock, who: Caller, per_second: int, seconds: int
) -> int:
    """Requests refused of `per_second` evenly spaced over `seconds`."""
    refused = 0
    for _ in range(per_second * seconds):
        clock.advance(1 / per_second)
        standing = limiter.take(who)
        assert standing is not None
        refused += standing.retry_after is not None
    return refused


def test_a_platform_at_300_a_second_for_a_minute_is_never_refused_a_citizen_app_at_100_is():
    clock = Clock()
    limiter = RateLimiter(now=clock)

    assert refused_at(limiter, clock, caller(Role.PLATFORM), 300, 60) == 0
    refused = refused_at(limiter, clock, caller(Role.CITIZEN_APP), 100, 60)
    # 50 a second are let through after the burst of four seconds' worth: about half refused.
    allowed = 100 * 60 - refused
    assert ROLE_RATE_LIMITS[Role.CITIZEN_APP] * (60 + BURST_SECONDS) - 2 <= allowed
    assert allowed <= ROLE_RATE_LIMITS[Role.CITIZEN_APP] * (60 + BURST_SECONDS) + 2


def test_a_clients_own_rate_wins_over_its_roles_and_settings_over_the_defaults():
    limiter = RateLimiter(by_role={Role.UNION: 7})

    assert limiter.rate_for(caller(Role.UNION)) == 7
    assert limiter.rate_for(caller(Role.UNION, own=3)) == 3
    assert limiter.rate_for(caller(Role.PLATFORM)) == ROLE_RATE_LIMITS[Role.PLATFORM]
    assert ROLE_RATE_LIMITS[Role.PLATFORM] >= 10 * ROLE_RATE_LIMITS[Role.CITIZEN_APP]


def test_the_bucket_refills_at_the_clients_rate_and_never_past_its_burst():
    clock = Clock()
    limiter = RateLimiter(now=clock)
    slow = caller(Role.EXAMINER, own=2)  # a burst of 8

    standings = [limiter.take(slow) for _ in range(9)]
    assert [s.retry_after for s in standings] == [None] * 8 + [1]
    assert [s.remaining for s in standings[:8]] == [7, 6, 5, 4, 3, 2, 1, 0]
    assert standings[7].reset_seconds == BURST_SECONDS
    clock.advance(0.5)  # one token back
    assert limiter.take(slow).retry_after is None
    assert limiter.take(slow).retry_after == 1
    clock.advance(600)
    assert [limiter.take(slow).retry_after for _ in range(9)] == [None] * 8 + [1]


def test_limits_off_count_nothing():
    limiter = RateLimiter(enabled=False)
    assert all(limiter.take(caller(Role.CITIZEN_APP)) is None for _ in range(1000))


def test_role_rates_are_set_as_role_equals_rate_pairs(monkeypatch, settings):
    monkeypatch.setenv("MUTUALAID_RATE_LIMITS", "platform=2500, citizen_app=80")
    given = make_settings(settings.database_url, settings.var_dir)
    assert given.rate_limits == {Role.PLATFORM: 2500, Role.CITIZEN_APP: 80}

    for wrong in ("pilot=3", "platform=0", "platform"):
        monkeypatch.setenv("MUTUALAID_RATE_LIMITS", wrong)
        with pytest.raises(ValidationError):
            make_settings(settings.database_url, settings.var_dir)


@pytest.fixture
async def limited(settings):
    app = create_app(
        make_settings(settings.database_url, settings.var_dir, MUTUALAID_RATE_LIMITS_ENABLED=True)
    )
    async with asgi_client(app) as http:
        yield http
    await app.state.runtime.close()


async def test_over_its_rate_a_client_gets_429_and_every_answer_says_where_it_stands(
    limited, db, admin_headers, new_client
):
    mine_id, mine = await new_client(Role.CITIZEN_APP)
    other_id, other = await new_client(Role.CITIZEN_APP)
    set_rate = await limited.patch(
        f"/v1/clients/{mine_id}", json={"rate_limit_per_second": 1}, headers=admin_headers
    )
    assert set_rate.status_code == 200, set_rate.text
    assert set_rate.json()["rate_limit_per_second"] == 1

    answers = [await limited.get("/v1/plans", headers=mine) for _ in range(BURST_SECONDS + 1)]

    assert [a.status_code for a in answers] == [200] * BURST_SECONDS + [429]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["3", "2", "1", "0", "0"]
    assert {a.headers["X-RateLimit-Limit"] for a in answers} == {"1"}
    refused = assert_problem(answers[-1], 429, "rate_limited")
    assert "rate" in refused["detail"]
    assert answers[-1].headers["Retry-After"] == "1"
    # Another client of the same role: its own bucket, at the role's rate.
    theirs = await limited.get("/v1/plans", headers=other)
    assert theirs.status_code == 200
    assert theirs.headers["X-RateLimit-Limit"] == str(ROLE_RATE_LIMITS[Role.CITIZEN_APP])
    me = await limited.get("/v1/clients/me", headers=other)
    assert me.json()["rate_limit_per_second"] == ROLE_RATE_LIMITS[Role.CITIZEN_APP]
    assert other_id != mine_id


async def test_a_platforms_look_ups_carry_the_platforms_rate(limited, db, new_client):
    _, platform = await new_client(Role.PLATFORM, "demo-delivery")

    answer = await limited.get("/v1/platform/workers/rider-001/coverage", headers=platform)

    assert answer.headers["X-RateLimit-Limit"] == str(ROLE_RATE_LIMITS[Role.PLATFORM])
    assert int(answer.headers["X-RateLimit-Remaining"]) == (
        ROLE_RATE_LIMITS[Role.PLATFORM] * BURST_SECONDS - 1
    )


async def test_only_an_admin_sets_a_rate_and_null_gives_the_roles_back(
    limited, db, admin_headers, new_client
):
    union_id, union = await new_client(Role.UNION, "SH-XUHUI")
    path = f"/v1/clients/{union_id}"

    by_itself = await limited.patch(path, json={"rate_limit_per_second": 500}, headers=union)
    zero = await limited.patch(path, json={"rate_limit_per_second": 0}, headers=admin_headers)
    missing = await limited.patch(path, json={}, headers=admin_headers)
    unknown = await limited.patch(
        f"/v1/clients/{uuid.uuid4()}", json={"rate_limit_per_second": 5}, headers=admin_headers
    )
    raised = await limited.patch(path, json={"rate_limit_per_second": 500}, headers=admin_headers)
    after_raise = (await limited.get("/v1/clients/me", headers=union)).json()
    back = await limited.patch(path, json={"rate_limit_per_second": None}, headers=admin_headers)
    after_reset = (await limited.get("/v1/clients/me", headers=union)).json()

    assert_problem(by_itself, 403, "forbidden")
    assert_problem(zero, 422, "validation_error")
    assert_problem(missing, 422, "validation_error")
    assert_problem(unknown, 404, "not_found")
    assert raised.json()["rate_limit_per_second"] == 500
    assert after_raise["rate_limit_per_second"] == 500  # this process forgot the old one at once
    assert back.json()["rate_limit_per_second"] is None
    assert after_reset["rate_limit_per_second"] == ROLE_RATE_LIMITS[Role.UNION]


async def test_unauthenticated_requests_are_not_counted_against_a_client(limited, db, new_client):
    _, mine = await new_client(Role.CITIZEN_APP, own=1)
    for _ in range(BURST_SECONDS + 1):
        response = await limited.get("/v1/plans", headers={"Authorization": "Bearer nope"})
        assert response.status_code == 401
        assert "X-RateLimit-Limit" not in response.headers
    assert (await limited.get("/v1/plans", headers=mine)).status_code == 200


async def test_a_request_is_counted_once_however_many_of_its_parts_need_the_caller(
    settings, db, new_client
):
    """`POST /v1/probes/things` needs the caller twice: for its role and for its key."""
    from tests.support.probes import build_probe_app

    app = build_probe_app(
        make_settings(settings.database_url, settings.var_dir, MUTUALAID_RATE_LIMITS_ENABLED=True)
    )
    _, mine = await new_client(Role.EXAMINER, own=1)
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
                for n in range(BURST_SECONDS + 1)
            ]
    finally:
        await app.state.runtime.close()

    assert statuses == [201] * BURST_SECONDS + [429]


@pytest.fixture
def new_client(db):
    """`await new_client(role, org, own=rate)` -> (its id, its bearer headers)."""
    from app.clients.service import create_client

    async def make(role: Role, org: str | None = None, own: int | None = None):
        async with db.writer() as session:
            issued = await create_client(
                session, role=role, name=f"rl-{role.value}", org_code=org, rate_limit_per_second=own
            )
            await session.commit()
        return issued.client.id, bearer(issued.api_key)

    return make


@pytest.fixture
async def admin_headers(new_client):
    _, headers = await new_client(Role.ADMIN)
    return headers


async def test_changes_to_a_client_are_on_the_audit_trail_with_who_made_them(
    limited, db, new_client
):
    admin_id, admin = await new_client(Role.ADMIN)
    union_id, _ = await new_client(Role.UNION, "SH-XUHUI", own=30)
    path = f"/v1/clients/{union_id}"

    raised = await limited.patch(path, json={"rate_limit_per_second": 500}, headers=admin)
    same = await limited.patch(path, json={"rate_limit_per_second": 500}, headers=admin)
    revoked = await limited.post(f"{path}/revoke", headers=admin)
    again = await limited.post(f"{path}/revoke", headers=admin)

    assert [a.status_code for a in (raised, same, revoked, again)] == [200, 200, 200, 200]
    async with db.reader() as session:
        events = (
            await session.execute(
                select(AuditEvent.action, AuditEvent.client_id, AuditEvent.details)
                .where(AuditEvent.entity == "api_client", AuditEvent.entity_id == str(union_id))
                .order_by(AuditEvent.created_at, AuditEvent.id)
            )
        ).all()
    # Created from the command line's side (no client asked); unchanged rates and a second
    # revocation change nothing, so they record nothing.
    assert [tuple(e) for e in events] == [
        ("created", None, {"role": "union", "org_code": "SH-XUHUI", "rate_limit_per_second": 30}),
        ("rate_limit_changed", admin_id, {"from": 30, "to": 500}),
        ("revoked", admin_id, None),
    ]
