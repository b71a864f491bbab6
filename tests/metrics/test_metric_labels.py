"""Metric labels stay a small, fixed set whatever clients send: a label value per request
method a client makes up is a new time series each, without bound."""

from __future__ import annotations

import asyncio

import pytest

from app.core.metrics import HTTP_REQUESTS
from app.core.middleware import RequestContextMiddleware
from tests.support.claims import claims_app
from tests.support.metrics import scrape


@pytest.fixture
async def app(settings, test_var_dir, db):
    """The claims app (clock at 23 November 2026, 10:00 Shanghai)."""
    async with claims_app(settings, test_var_dir) as application:
        yield application


async def test_made_up_request_methods_do_not_become_label_values(http, citizen):
    for n in range(5):
        await http.request(f"MADEUP{n}", "/v1/plans", headers=citizen)
        await http.request(f"MADEUP{n}", "/no/such/route")

    samples = await scrape(http)

    methods = {
        dict(labels).get("method")
        for name, labels in samples
        if name.startswith("mutualaid_http_request")
    }
    assert not {m for m in methods if m and m.startswith("MADEUP")}, sorted(methods)


async def test_a_client_that_goes_away_is_not_a_server_error():
    async def abandoned(scope, receive, send):
        raise asyncio.CancelledError

    def counted(status: str) -> float:
        return HTTP_REQUESTS.labels("GET", "<unmatched>", status)._value.get()

    before = (counted("499"), counted("500"))
    scope = {"type": "http", "method": "GET", "path": "/gone", "headers": [], "query_string": b""}
    with pytest.raises(asyncio.CancelledError):
        await RequestContextMiddleware(abandoned)(scope, None, None)
    assert (counted("499"), counted("500")) == (before[0] + 1, before[1])
