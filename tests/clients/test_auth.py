"""Authentication and authorisation: 401 for keys, 403 for roles, 404 across tenants."""

from __future__ import annotations

import pytest

from app.core.policy import Role
from tests.support.clients import assert_problem
from tests.support.service import bearer


async def test_no_key_is_401_with_a_bearer_challenge(client):
    response = await client.get("/v1/clients/me")

    assert_problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        ("Bearer mak_not-a-real-key", "invalid_api_key"),
        ("Bearer " + "x" * 500, "invalid_api_key"),
        ("Bearer ", "unauthorized"),
        ("Basic dXNlcjpwYXNz", "unauthorized"),
        ("mak_no-scheme", "unauthorized"),
    ],
)
async def test_unknown_or_malformed_keys_are_401(client, authorization, code):
    response = await client.get("/v1/clients/me", headers={"Authorization": authorization})

    assert_problem(response, 401, code)


@pytest.mark.parametrize(
    ("role", "org"),
    [
        (Role.CITIZEN_APP, None),
        (Role.UNION, "SH-PUDONG"),
        (Role.PLATFORM, "demo-delivery"),
        (Role.EXAMINER, None),
        (Role.ADMIN, None),
    ],
)
async def test_every_role_can_see_who_it_is(client, api_key, role, org):
    response = await client.get("/v1/clients/me", headers=bearer(await api_key(role, org)))

    assert response.status_code == 200
    assert response.json()["role"] == role.value
    assert response.json()["org_code"] == org


@pytest.mark.parametrize("role", [Role.CITIZEN_APP, Role.EXAMINER])
async def test_wrong_role_is_403(client, api_key, role):
    response = await client.get("/v1/clients", headers=bearer(await api_key(role)))

    body = assert_problem(response, 403, "forbidden")
    assert "clients.manage" in body["detail"]


async def test_admin_lists_clients_without_their_keys(client, api_key):
    citizen_key = await api_key(Role.CITIZEN_APP)
    response = await client.get("/v1/clients", headers=bearer(await api_key(Role.ADMIN)))

    assert response.status_code == 200
    assert {c["role"] for c in response.json()} == {"citizen_app", "admin"}
    assert citizen_key not in response.text
    assert "key_hash" not in response.text


async def test_a_revoked_key_stops_working_at_once(client, api_key):
    admin = bearer(await api_key(Role.ADMIN))
    victim_key = await api_key(Role.CITIZEN_APP)
    me = await client.get("/v1/clients/me", headers=bearer(victim_key))
    assert me.status_code == 200

    revoked = await client.post(f"/v1/clients/{me.json()['id']}/revoke", headers=admin)
    after = await client.get("/v1/clients/me", headers=bearer(victim_key))

    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    assert_problem(after, 401, "invalid_api_key")


async def test_revoking_an_unknown_client_is_404(client, api_key):
    admin = bearer(await api_key(Role.ADMIN))
    response = await client.post(
        "/v1/clients/00000000-0000-4000-8000-000000000000/revoke", headers=admin
    )
    assert_problem(response, 404, "not_found")


@pytest.mark.parametrize(
    ("role", "org", "status"),
    [
        (Role.UNION, "SH-PUDONG", 200),
        (Role.UNION, "SH-XUHUI", 404),
        (Role.PLATFORM, "SH-PUDONG", 404),
        (Role.EXAMINER, None, 200),
    ],
)
async def test_another_tenants_object_is_404(probe_client, api_key, role, org, status):
    response = await probe_client.get(
        "/v1/probes/orgs/SH-PUDONG/thing", headers=bearer(await api_key(role, org))
    )

    assert response.status_code == status
    if status == 404:
        # Exactly what a missing object looks like: nothing says it exists elsewhere.
        assert response.json()["code"] == "not_found"
        assert "SH-PUDONG" not in response.text
