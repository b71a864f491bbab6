"""A NUL in a path or query parameter is refused as bad input on both databases (PostgreSQL
text cannot hold one; the driver would fail the query)."""

from __future__ import annotations

import pytest

from app.core.policy import Role
from tests.support.service import bearer

URLS = [
    (Role.ADMIN, "/v1/platforms/demo%00"),
    (Role.CITIZEN_APP, "/v1/plans/shanghai%00"),
    (Role.PLATFORM, "/v1/platform/workers/w%00/coverage"),
    (Role.EXAMINER, "/v1/claims?cursor=a%00b"),
    (Role.ADMIN, "/v1/platform/webhooks/x%00"),
    (Role.CITIZEN_APP, "/v1/plans?x=%00"),
]


@pytest.mark.parametrize(("role", "url"), URLS)
async def test_a_nul_in_the_url_is_refused(client, api_key, role, url):
    org = "demo-delivery" if role is Role.PLATFORM else None
    response = await client.get(url, headers=bearer(await api_key(role, org)))
    assert (response.status_code, response.json()["code"]) == (422, "nul_in_url")
    assert response.headers["content-type"] == "application/problem+json"
