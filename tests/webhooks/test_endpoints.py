"""Registering webhook endpoints: secrets shown once, tenancy, and no SSRF."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.core import destinations
from app.core.policy import Role
from app.webhooks.models import WebhookDelivery
from tests.support.clients import assert_problem
from tests.support.receiver import running_receiver
from tests.support.service import bearer
from tests.support.webhooks import fresh_key, pay_for_cover, register

PUBLIC = "93.184.216.34"


@pytest.fixture
def webhook_settings():
    """Production rules for URLs: HTTPS and public addresses only."""
    return {"MUTUALAID_WEBHOOK_RETRY_BASE_SECONDS": "0"}


@pytest.fixture
def dns(monkeypatch):
    """Names resolve from this table (`dns["name"] = [addresses]`); others do not resolve."""
    table: dict[str, list[str]] = {"hooks.example.com": [PUBLIC]}

    async def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise OSError("no such name")
        return table[host]

    monkeypatch.setattr(destinations, "system_resolver", resolve)
    return table


async def test_the_secret_is_shown_once_and_endpoints_belong_to_their_platform(
    http, delivery, api_key, dns
):
    other = bearer(await api_key(Role.PLATFORM, "slow-delivery", "slow-api"))

    created = await http.post(
        "/v1/platform/webhooks",
        json={"url": "https://hooks.example.com/mutualaid", "description": "prod"},
        headers=delivery | fresh_key(),
    )
    endpoint = created.json()
    path = f"/v1/platform/webhooks/{endpoint['id']}"
    listed = await http.get("/v1/platform/webhooks", headers=delivery)
    shown = await http.get(path, headers=delivery)
    others_list = await http.get("/v1/platform/webhooks", headers=other)

    assert created.status_code == 201
    assert created.headers["location"] == path
    assert created.headers["cache-control"] == "no-store"
    assert endpoint["secret"].startswith("whsec_")
    assert len(endpoint["secret"]) > 40
    assert endpoint["url"] == "https://hooks.example.com/mutualaid"
    assert [e["id"] for e in listed.json()] == [endpoint["id"]]
    assert "secret" not in listed.json()[0]
    assert "secret" not in shown.json()
    assert shown.json()["secret_rotated_until"] is None
    assert others_list.json() == []
    for method, suffix in (("GET", ""), ("DELETE", ""), ("POST", "/secret")):
        response = await http.request(method, path + suffix, headers=other)
        assert_problem(response, 404, "webhook_not_found")
    assert (await http.get(path, headers=delivery)).status_code == 200


async def test_one_url_once_and_at_most_five_endpoints(http, delivery, dns):
    url = "https://hooks.example.com/a"
    first = await register(http, delivery, url)
    again = await http.post(
        "/v1/platform/webhooks", json={"url": url}, headers=delivery | fresh_key()
    )
    for n in range(4):
        await register(http, delivery, f"https://hooks.example.com/{n}")
    sixth = await http.post(
        "/v1/platform/webhooks",
        json={"url": "https://hooks.example.com/6"},
        headers=delivery | fresh_key(),
    )
    removed = await http.delete(f"/v1/platform/webhooks/{first['id']}", headers=delivery)
    back = await http.post(
        "/v1/platform/webhooks", json={"url": url}, headers=delivery | fresh_key()
    )

    assert_problem(again, 409, "webhook_exists")
    assert_problem(sixth, 409, "webhook_limit_reached")
    assert removed.status_code == 204
    assert back.status_code == 201
    assert (
        await http.get(f"/v1/platform/webhooks/{first['id']}", headers=delivery)
    ).status_code == 404


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://hooks.example.com/plain", "webhook_url_not_https"),
        ("ftp://hooks.example.com/x", "webhook_url_not_https"),
        ("https://127.0.0.1/hook", "webhook_url_not_allowed"),
        ("https://localhost/hook", "webhook_url_not_allowed"),
        ("https://10.1.2.3/hook", "webhook_url_not_allowed"),
        ("https://172.16.0.1/hook", "webhook_url_not_allowed"),
        ("https://192.168.1.1/hook", "webhook_url_not_allowed"),
        ("https://100.64.0.1/hook", "webhook_url_not_allowed"),
        ("https://169.254.169.254/latest/meta-data", "webhook_url_not_allowed"),
        ("https://0.0.0.0/hook", "webhook_url_not_allowed"),
        ("https://224.0.0.1/hook", "webhook_url_not_allowed"),
        ("https://[::1]/hook", "webhook_url_not_allowed"),
        ("https://[fe80::1]/hook", "webhook_url_not_allowed"),
        ("https://[fd00::1]/hook", "webhook_url_not_allowed"),
        ("https://[::ffff:127.0.0.1]/hook", "webhook_url_not_allowed"),
        ("https://[2002:7f00:1::]/hook", "webhook_url_not_allowed"),
        ("https://inside.example.com/hook", "webhook_url_not_allowed"),
        ("https://half.example.com/hook", "webhook_url_not_allowed"),
        ("https://user:pw@hooks.example.com/hook", "webhook_url_not_allowed"),
        ("https://hooks.example.com:22/hook", "webhook_url_not_allowed"),
        ("https://nowhere.example.com/hook", "webhook_url_unresolvable"),
    ],
)
async def test_urls_that_could_reach_inside_are_refused(http, delivery, dns, db, url, code):
    dns["localhost"] = ["127.0.0.1", "::1"]
    dns["inside.example.com"] = ["10.0.0.5"]
    dns["half.example.com"] = [PUBLIC, "192.168.0.10"]

    response = await http.post(
        "/v1/platform/webhooks", json={"url": url}, headers=delivery | fresh_key()
    )

    assert_problem(response, 422, code)
    assert (await http.get("/v1/platform/webhooks", headers=delivery)).json() == []


async def test_a_name_that_turns_private_after_registration_is_not_called(
    http, citizen, delivery, dns, db, run_jobs
):
    with running_receiver() as receiver:
        port = receiver.url.split(":")[2].split("/")[0]
        await register(http, delivery, f"https://hooks.example.com:{port}/hook")
        dns["hooks.example.com"] = ["127.0.0.1"]  # DNS rebinding towards the receiver
        await pay_for_cover(http, citizen)
        await run_jobs(limit=1)

    assert receiver.received == []
    async with db.reader() as session:
        stored = (await session.scalars(select(WebhookDelivery))).one()
    assert (stored.status, stored.attempts) == ("pending", 1)
    assert stored.last_error == "webhook_url_not_allowed"


@pytest.mark.parametrize(
    "address",
    [
        "64:ff9b::a9fe:a9fe",  # NAT64 well-known prefix -> 169.254.169.254 (cloud metadata)
        "64:ff9b::a00:5",  # NAT64 -> 10.0.0.5
        "64:ff9b::7f00:1",  # NAT64 -> 127.0.0.1
        "64:ff9b:1::a00:5",  # local-use NAT64 prefix (RFC 8215) -> 10.0.0.5
        "::ffff:0:a00:5",  # IPv4-translated (SIIT) -> 10.0.0.5
        "2002:a00:5::1",  # 6to4 -> 10.0.0.5
    ],
)
async def test_ipv6_addresses_that_translate_to_private_ipv4_are_refused(address):
    """Behind DNS64/NAT64 these reach the IPv4 address inside them."""

    async def resolve(host: str, port: int) -> list[str]:
        return [address]

    with pytest.raises(destinations.DestinationRefused):
        await destinations.check(
            "https://hooks.example.com/hook", allow_private=False, resolve=resolve
        )


async def test_a_public_ipv6_address_is_accepted():
    async def resolve(host: str, port: int) -> list[str]:
        return ["2606:4700:4700::1111"]

    checked = await destinations.check(
        "https://hooks.example.com/hook", allow_private=False, resolve=resolve
    )

    assert checked.address == "2606:4700:4700::1111"


async def test_registering_needs_an_idempotency_key_and_a_retry_returns_the_same_secret(
    http, delivery, dns, db
):
    """A platform whose first answer was lost retries: it gets the endpoint and the secret it
    missed, not a second endpoint (whose secret would be the only one it ever saw)."""
    body = {"url": "https://hooks.example.com/retried"}

    without = await http.post("/v1/platform/webhooks", json=body, headers=delivery)
    first = await http.post(
        "/v1/platform/webhooks", json=body, headers=delivery | {"Idempotency-Key": "hook-1"}
    )
    retried = await http.post(
        "/v1/platform/webhooks", json=body, headers=delivery | {"Idempotency-Key": "hook-1"}
    )

    problem = assert_problem(without, 422, "validation_error")
    assert [e["field"] for e in problem["errors"]] == ["Idempotency-Key"]
    assert (first.status_code, retried.status_code) == (201, 201)
    assert retried.json() == first.json()  # the same id and the same secret
    assert retried.headers["location"] == first.headers["location"]
    assert retried.headers["cache-control"] == "no-store"
    listed = await http.get("/v1/platform/webhooks", headers=delivery)
    assert [e["id"] for e in listed.json()] == [first.json()["id"]]
