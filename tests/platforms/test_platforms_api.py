"""The platform registry: admins manage it; nobody else sees it; credentials never leave."""

from __future__ import annotations

from sqlalchemy import select

from app.audit.models import AuditEvent
from app.core.policy import Role
from app.platforms.models import Platform
from tests.support.clients import assert_problem
from tests.support.service import bearer

BODY = {
    "code": "demo-delivery",
    "name": "Demo Delivery",
    "work_types": ["food_delivery", "instant_delivery"],
    "verify_url": "http://127.0.0.1:8100/verify",
    "credential": "platform-s3cret",
}


async def test_admin_registers_a_platform_and_the_credential_is_stored_encrypted(
    client, api_key, db
):
    admin = bearer(await api_key(Role.ADMIN)) | {"Idempotency-Key": "p1"}

    created = await client.post("/v1/platforms", json=BODY, headers=admin)
    listed = await client.get("/v1/platforms", headers=admin)

    assert created.status_code == 201
    assert created.json()["has_credential"] is True
    assert "platform-s3cret" not in created.text + listed.text
    assert [p["code"] for p in listed.json()] == ["demo-delivery"]
    async with db.reader() as session:
        platform = await session.get(Platform, "demo-delivery")
        audit = (await session.scalars(select(AuditEvent))).all()
    assert b"platform-s3cret" not in platform.credential_cipher
    assert [(a.entity, a.action) for a in audit] == [("platform", "created")]
    assert audit[0].request_id == created.headers["x-request-id"]


async def test_a_duplicate_code_is_409_and_bad_input_422(client, api_key):
    admin = bearer(await api_key(Role.ADMIN))
    await client.post("/v1/platforms", json=BODY, headers=admin | {"Idempotency-Key": "a"})

    again = await client.post("/v1/platforms", json=BODY, headers=admin | {"Idempotency-Key": "b"})
    bad = await client.post(
        "/v1/platforms",
        json=BODY | {"code": "Bad Code", "work_types": ["tutoring"], "verify_url": "ftp://x"},
        headers=admin | {"Idempotency-Key": "c"},
    )

    assert_problem(again, 409, "platform_exists")
    body = assert_problem(bad, 422, "validation_error")
    assert {e["field"] for e in body["errors"]} >= {"code", "verify_url"}


async def test_disable_and_only_admins_may(client, api_key):
    admin = bearer(await api_key(Role.ADMIN))
    await client.post("/v1/platforms", json=BODY, headers=admin | {"Idempotency-Key": "a"})

    disabled = await client.patch(
        "/v1/platforms/demo-delivery", json={"enabled": False}, headers=admin
    )
    as_examiner = await client.get("/v1/platforms", headers=bearer(await api_key(Role.EXAMINER)))
    as_platform = await client.get(
        "/v1/platforms/demo-delivery", headers=bearer(await api_key(Role.PLATFORM, "demo-delivery"))
    )

    assert disabled.json()["enabled"] is False
    assert_problem(as_examiner, 403, "forbidden")
    assert_problem(as_platform, 403, "forbidden")


async def test_the_cli_registers_a_platform(client, settings, api_key):
    from tests.support.clients import run_cli

    result = run_cli(
        settings,
        "platforms",
        "add",
        "--code",
        "cli-freight",
        "--name",
        "CLI Freight",
        "--verify-url",
        "http://127.0.0.1:8100/verify",
        "--work-types",
        "same_city_freight,express_delivery",
    )
    listed = await client.get("/v1/platforms", headers=bearer(await api_key(Role.ADMIN)))

    assert result.returncode == 0, result.stderr
    [platform] = listed.json()
    assert platform["code"] == "cli-freight"
    assert platform["work_types"] == ["express_delivery", "same_city_freight"]
