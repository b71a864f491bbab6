"""Registering webhook endpoints with odd input: problems, never 500s."""

from __future__ import annotations

import asyncio

import pytest

from app.core.policy import Role
from tests.support.clients import assert_problem
from tests.support.service import bearer
from tests.support.webhooks import fresh_key


@pytest.mark.parametrize(
    "url",
    [
        "https://[::1/hook",  # not a URL httpx can parse
        "https://xn--/hook",  # idna.IDNAError
        "https://a..example.com/hook",  # UnicodeError from getaddrinfo's idna encoding
        "https://" + "a" * 70 + ".example.com/hook",  # a DNS label over 63 characters
    ],
)
async def test_a_malformed_url_is_a_422_not_a_500(http, delivery, url):
    response = await http.post(
        "/v1/platform/webhooks", json={"url": url}, headers=delivery | fresh_key()
    )

    assert response.status_code == 422, response.text
    assert response.json()["code"] in ("webhook_url_invalid", "webhook_url_unresolvable")


async def test_a_url_whose_normal_form_is_longer_than_the_column_is_a_422_not_a_500(http, delivery):
    """The body allows 500 characters; the stored form is the normalised URL, where each
    non-ASCII path character becomes six: the limit applies to that form."""
    url = "http://127.0.0.1:9/" + "é" * 180
    assert len(url) <= 500

    response = await http.post(
        "/v1/platform/webhooks", json={"url": url}, headers=delivery | fresh_key()
    )

    assert_problem(response, 422, "webhook_url_invalid")


async def test_a_port_outside_the_tcp_range_is_refused(http, delivery):
    """No delivery to `:99999` could ever succeed."""
    response = await http.post(
        "/v1/platform/webhooks",
        json={"url": "http://127.0.0.1:99999/hook"},
        headers=delivery | fresh_key(),
    )

    assert_problem(response, 422, "webhook_url_invalid")


async def test_a_platform_client_whose_code_is_not_a_platform_gets_a_problem_not_a_500(
    http, api_key
):
    """Platform clients may be bound to any well-formed code (`clients create --role platform
    --org typo`): such a client owns no endpoints."""
    typo = bearer(await api_key(Role.PLATFORM, "demo-delivry", "typo-api"))

    response = await http.post(
        "/v1/platform/webhooks", json={"url": "http://127.0.0.1:9/hook"}, headers=typo | fresh_key()
    )

    assert_problem(response, 403, "platform_unknown")


async def test_registering_the_same_url_twice_at_once_is_one_201_and_one_409(http, delivery):
    """Registrations for one platform take turns (its row is locked), so the duplicate check
    holds on PostgreSQL as on SQLite."""
    url = "http://127.0.0.1:9/same"

    responses = await asyncio.gather(
        *(
            http.post("/v1/platform/webhooks", json={"url": url}, headers=delivery | fresh_key())
            for _ in range(4)
        )
    )

    codes = sorted(r.status_code for r in responses)
    assert codes == [201, 409, 409, 409], [r.text for r in responses]
