"""A union's member list: its own members only, oldest first, in cursor pages, each with the
state of their cover today (the claims app: clock at 23 November 2026, members written
straight to the tables)."""

from __future__ import annotations

from datetime import date

import pytest

from app.core.policy import Role
from app.members.models import Member
from tests.support.claims import claims_app
from tests.support.clients import assert_problem
from tests.support.service import bearer


@pytest.fixture
async def app(settings, test_var_dir):
    async with claims_app(settings, test_var_dir) as application:
        yield application


async def every_page(http, headers, limit: int) -> tuple[list[dict], int]:
    members, cursor, pages = [], None, 0
    while True:
        params = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        response = await http.get("/v1/union/members", params=params, headers=headers)
        assert response.status_code == 200, response.text
        pages += 1
        members += response.json()["members"]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return members, pages


async def test_pages_hold_each_of_the_unions_members_once_oldest_first(
    http, covered, db, xuhui, pudong
):
    # Bound when their cover was paid, the day before it starts.
    [lapsed] = await covered(1, starts_on=date(2025, 1, 1), union="SH-XUHUI")
    active = await covered(3, union="SH-XUHUI")  # bound at the same moment: ordered by id
    [dead] = await covered(1, union="SH-XUHUI")
    [upcoming] = await covered(1, starts_on=date(2026, 12, 1), union="SH-XUHUI")
    [other] = await covered(1, union="SH-PUDONG")
    [nobodys] = await covered(1)
    async with db.writer() as session:
        (await session.get(Member, dead)).died_on = date(2026, 6, 1)  # sealed at rest
        await session.commit()

    members, pages = await every_page(http, xuhui, limit=2)
    theirs, _ = await every_page(http, pudong, limit=100)

    assert pages == 3
    assert [m["member_id"] for m in members] == [
        str(lapsed),
        *sorted(str(m) for m in (*active, dead)),
        str(upcoming),
    ]
    status = {
        m["member_id"]: (m["cover"], m["cover_starts_on"], m["cover_ends_on"]) for m in members
    }
    assert status[str(lapsed)] == ("none", None, None)
    assert status[str(dead)] == ("none", None, None)
    assert {status[str(m)] for m in active} == {("active", "2026-01-01", "2026-12-31")}
    assert status[str(upcoming)] == ("upcoming", "2026-12-01", "2027-11-30")
    assert [m["joined_on"] for m in members] == [
        "2024-12-31",
        *["2025-12-31"] * 4,
        "2026-11-30",
    ]
    assert all(m["name_masked"] == "测***" for m in members)
    assert all("*" in m["id_number_masked"] for m in members)
    assert [m["member_id"] for m in theirs] == [str(other)]
    assert str(nobodys) not in str(members) + str(theirs)


async def test_a_cursor_from_elsewhere_is_a_bad_request(http, xuhui):
    response = await http.get("/v1/union/members", params={"cursor": "nonsense"}, headers=xuhui)
    assert_problem(response, 400, "invalid_cursor")
    too_many = await http.get("/v1/union/members", params={"limit": 1001}, headers=xuhui)
    assert too_many.status_code == 422


async def test_only_unions_list_union_members_and_read_union_summaries(http, api_key):
    for role in (Role.CITIZEN_APP, Role.EXAMINER, Role.FINANCE, Role.ADMIN):
        headers = bearer(await api_key(role))
        assert_problem(await http.get("/v1/union/members", headers=headers), 403, "forbidden")
        summary = await http.get(
            "/v1/reports/union-summary?from=2026-01-01&to=2026-01-31", headers=headers
        )
        assert_problem(summary, 403, "forbidden")
    assert_problem(await http.get("/v1/union/members"), 401, "unauthorized")
