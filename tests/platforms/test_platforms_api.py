"""The platform registry: admins manage it; nobody else sees it; credentials never leave."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.core import destinations
from app.core.policy import Role
from app.main import create_app
from app.platforms.models import Platform
from tests.support.clients import assert_problem
from tests.support.service import asgi_client, bearer, make_settings

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
        audit = (
            await session.scalars(select(AuditEvent).where(AuditEvent.entity == "platform"))
        ).all()
    assert b"platform-s3cret" not in platform.credential_cipher
    assert [(a.entity_id, a.action) for a in audit] == [("demo-delivery", "created")]
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


@pytest.fixture
async def production(settings, test_var_dir, db):
    """The app in production mode on the test database (rate limit off, as in every test)."""
    application = create_app(
        make_settings(settings.database_url, test_var_dir, MUTUALAID_ENV="production")
    )
    async with asgi_client(application) as http:
        yield http
    await application.state.runtime.close()


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://169.254.169.254/latest/meta-data", "verification_url_not_https"),
        ("https://169.254.169.254/latest/meta-data", "verification_url_not_allowed"),
        ("https://10.0.0.5/verify", "verification_url_not_allowed"),
        ("https://127.0.0.1:8443/verify", "verification_url_not_allowed"),
        ("https://user:pw@platform.example.com/verify", "verification_url_not_allowed"),
    ],
)
async def test_in_production_a_verification_url_must_be_public_https(
    production, api_key, db, monkeypatch, url, code
):
    """ID numbers and names are posted to these URLs: in production they obey the webhook
    URLs' guard, on create and on change, for the single and the bulk URL alike."""

    async def public(host: str, port: int) -> list[str]:
        return ["93.184.215.14"] if host == "platform.example.com" else ["10.1.2.3"]

    monkeypatch.setattr(destinations, "system_resolver", public)
    admin = bearer(await api_key(Role.ADMIN))
    good = BODY | {"verify_url": "https://platform.example.com/verify"}

    refused = await production.post(
        "/v1/platforms", json=good | {"verify_url": url}, headers=admin | {"Idempotency-Key": "a"}
    )
    bulk = await production.post(
        "/v1/platforms",
        json=good | {"bulk_verify_url": url},
        headers=admin | {"Idempotency-Key": "b"},
    )
    created = await production.post(
        "/v1/platforms", json=good, headers=admin | {"Idempotency-Key": "c"}
    )
    changed = await production.patch(
        "/v1/platforms/demo-delivery", json={"verify_url": url}, headers=admin
    )

    assert_problem(refused, 422, code)
    assert_problem(bulk, 422, code)
    assert created.status_code == 201, created.text
    assert_problem(changed, 422, code)
    async with db.reader() as session:
        platform = await session.get(Platform, "demo-delivery")
    assert platform.verify_url == "https://platform.example.com/verify"
