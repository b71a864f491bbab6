"""Platforms ask whether their workers are covered (today is 23 November 2026)."""

from __future__ import annotations

from datetime import date

from tests.support.clients import assert_problem
from tests.support.partners import OTHER_PLATFORM

UNCOVERED = {"covered": False, "plan_code": None, "starts_on": None, "ends_on": None}
FIELDS = {"platform_worker_id", "covered", "plan_code", "starts_on", "ends_on"}


async def one(http, headers, worker_id: str):
    response = await http.get(f"/v1/platform/workers/{worker_id}/coverage", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_covered_worker_shows_plan_and_dates_and_nothing_else(http, worker, delivery):
    worker_id = await worker()

    response = await http.get(f"/v1/platform/workers/{worker_id}/coverage", headers=delivery)

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.json() == {
        "platform_worker_id": worker_id,
        "covered": True,
        "plan_code": "shanghai-new-employment-e",
        "starts_on": "2026-01-01",
        "ends_on": "2026-12-31",
    }


async def test_another_platforms_worker_answers_exactly_like_an_unknown_id(
    http, worker, delivery, rides
):
    theirs = await worker(OTHER_PLATFORM)

    asked_by_owner = await one(http, rides, theirs)
    asked_by_other = await one(http, delivery, theirs)
    unknown = await one(http, delivery, "no-such-worker")

    assert asked_by_owner["covered"] is True
    assert asked_by_other == {"platform_worker_id": theirs} | UNCOVERED
    assert unknown == {"platform_worker_id": "no-such-worker"} | UNCOVERED


async def test_ended_upcoming_renewed_and_dead_workers(http, worker, delivery):
    ended = await worker(starts_on=date(2025, 1, 1))
    upcoming = await worker(starts_on=date(2026, 12, 1))
    renewed = await worker(starts_on=date(2026, 1, 1), also_from=date(2027, 1, 1))
    lapsed_then_paid = await worker(starts_on=date(2025, 1, 1), also_from=date(2026, 12, 24))
    dead = await worker(died_on=date(2026, 11, 1))
    died_today = await worker(died_on=date(2026, 11, 23))

    assert await one(http, delivery, ended) == {"platform_worker_id": ended} | UNCOVERED
    assert await one(http, delivery, upcoming) == {
        "platform_worker_id": upcoming,
        "covered": False,
        "plan_code": "shanghai-new-employment-e",
        "starts_on": "2026-12-01",
        "ends_on": "2027-11-30",
    }
    assert (await one(http, delivery, renewed))["ends_on"] == "2026-12-31"
    assert (await one(http, delivery, lapsed_then_paid)) | {"platform_worker_id": None} == {
        "platform_worker_id": None,
        "covered": False,
        "plan_code": "shanghai-new-employment-e",
        "starts_on": "2026-12-24",
        "ends_on": "2027-12-23",
    }
    assert await one(http, delivery, dead) == {"platform_worker_id": dead} | UNCOVERED
    assert (await one(http, delivery, died_today))["covered"] is True


async def test_bulk_answers_every_id_in_the_order_asked(http, worker, delivery):
    mine = [await worker() for _ in range(3)]
    theirs = await worker(OTHER_PLATFORM)
    asked = [mine[2], "unknown-1", theirs, mine[0], mine[0], mine[1]]
    asked += [f"filler-{n}" for n in range(1000 - len(asked))]

    response = await http.post(
        "/v1/platform/coverage-queries", json={"worker_ids": asked}, headers=delivery
    )

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    results = response.json()["results"]
    assert [r["platform_worker_id"] for r in results] == asked
    assert all(set(r) == FIELDS for r in results)
    assert [r["covered"] for r in results[:6]] == [True, False, False, True, True, True]
    assert sum(r["covered"] for r in results) == 4
    assert results[2] == {"platform_worker_id": theirs} | UNCOVERED


async def test_bulk_refuses_too_many_none_and_bad_ids(http, delivery):
    too_many = [f"w-{n}" for n in range(1001)]
    cases = {
        "too many": {"worker_ids": too_many},
        "none": {"worker_ids": []},
        "empty id": {"worker_ids": [""]},
        "long id": {"worker_ids": ["x" * 129]},
        "NUL": {"worker_ids": ["a\x00b"]},
        "not strings": {"worker_ids": [1]},
        "extra field": {"worker_ids": ["a"], "member_id": "x"},
    }
    for case, body in cases.items():
        response = await http.post("/v1/platform/coverage-queries", json=body, headers=delivery)
        assert response.status_code == 422, case
        assert response.headers["content-type"] == "application/problem+json", case


async def test_a_path_id_longer_than_any_stored_is_refused(http, delivery):
    response = await http.get(f"/v1/platform/workers/{'x' * 129}/coverage", headers=delivery)

    assert_problem(response, 422, "validation_error")


async def test_only_platform_clients_may_ask(http, api_key, worker):
    from app.core.policy import Role
    from tests.support.service import bearer

    worker_id = await worker()
    for role, org in (
        (Role.CITIZEN_APP, None),
        (Role.UNION, "SH-PUDONG"),
        (Role.EXAMINER, None),
        (Role.ADMIN, None),
    ):
        headers = bearer(await api_key(role, org))
        single = await http.get(f"/v1/platform/workers/{worker_id}/coverage", headers=headers)
        bulk = await http.post(
            "/v1/platform/coverage-queries", json={"worker_ids": [worker_id]}, headers=headers
        )
        assert_problem(single, 403, "forbidden")
        assert_problem(bulk, 403, "forbidden")
    anonymous = await http.get(f"/v1/platform/workers/{worker_id}/coverage")
    assert_problem(anonymous, 401, "unauthorized")


async def test_a_nul_in_the_path_id_is_a_422_on_both_databases(http, delivery):
    response = await http.get("/v1/platform/workers/a%00b/coverage", headers=delivery)

    assert_problem(response, 422, "nul_in_url")


async def test_the_lookup_is_counted_under_its_route_and_takes_only_get(http, delivery, worker):
    from tests.support.metrics import scrape

    worker_id = await worker()
    path = f"/v1/platform/workers/{worker_id}/coverage"
    key = (
        "mutualaid_http_requests_total",
        frozenset(
            {
                "method": "GET",
                "route": "/v1/platform/workers/{platform_worker_id}/coverage",
                "status": "200",
            }.items()
        ),
    )
    before = (await scrape(http)).get(key, 0.0)

    assert (await http.get(path, headers=delivery)).status_code == 200
    head = await http.head(path, headers=delivery)

    assert (await scrape(http)).get(key, 0.0) == before + 1
    assert head.status_code == 405
