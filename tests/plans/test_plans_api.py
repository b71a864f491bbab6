"""GET /v1/plans and /v1/plans/{plan_code}: the plan with a confirmed flag on every parameter."""

from __future__ import annotations

import pytest

from app.core.policy import Role
from tests.support.clients import assert_problem
from tests.support.service import bearer

CODE = "shanghai-new-employment-e"


@pytest.mark.parametrize(
    ("role", "org"),
    [
        (Role.CITIZEN_APP, None),
        (Role.UNION, "SH-PUDONG"),
        (Role.PLATFORM, "p"),
        (Role.EXAMINER, None),
        (Role.ADMIN, None),
    ],
)
async def test_any_client_reads_the_plan(client, api_key, role, org):
    response = await client.get(f"/v1/plans/{CODE}", headers=bearer(await api_key(role, org)))

    assert response.status_code == 200
    plan = response.json()
    assert plan["code"] == CODE
    assert plan["premium_fen"] == {"value": 7200, "confirmed": True}
    assert plan["ceiling_fen"] == {"value": 72_000_000, "confirmed": True}


async def test_every_parameter_carries_its_confirmed_flag(client, api_key):
    plan = (
        await client.get(f"/v1/plans/{CODE}", headers=bearer(await api_key(Role.CITIZEN_APP)))
    ).json()

    benefits = {b["code"]: b for b in plan["benefits"]}
    assert set(benefits) == {
        "hospital_allowance",
        "critical_illness",
        "critical_illness_medical",
        "illness_death",
        "accidental_death",
        "accidental_disability",
        "accident_condolence",
    }
    condolence = benefits["accident_condolence"]["parameters"]
    assert condolence["amount_per_event_fen"] == {"value": 50_000, "confirmed": True}
    assert condolence["max_per_period_fen"] == {"value": 600_000, "confirmed": True}
    assert benefits["hospital_allowance"]["parameters"]["daily_rate_fen"] == {
        "value": 10_000,
        "confirmed": False,
    }
    assert benefits["critical_illness"]["required_documents"]["value"]
    assert plan["eligibility"]["under_age"] == {"value": 60, "confirmed": True}
    assert plan["eligibility"]["hukou_required"] == {"value": False, "confirmed": True}
    assert plan["waiting"]["illness_days"] == {"value": 30, "confirmed": False}

    def params(node):
        if isinstance(node, dict) and "value" in node:
            yield node
        elif isinstance(node, dict):
            for value in node.values():
                yield from params(value)
        elif isinstance(node, list):
            for value in node:
                yield from params(value)

    found = list(params({k: v for k, v in plan.items() if k != "diseases"}))
    assert len(found) > 40
    assert all(set(p) == {"value", "confirmed"} for p in found)


async def test_the_list_holds_the_shipped_plan(client, api_key):
    response = await client.get("/v1/plans", headers=bearer(await api_key(Role.UNION, "U")))

    assert response.status_code == 200
    assert [p["code"] for p in response.json()["plans"]] == [CODE]


async def test_an_unknown_plan_is_404(client, api_key):
    response = await client.get("/v1/plans/nope", headers=bearer(await api_key(Role.EXAMINER)))
    assert_problem(response, 404, "plan_not_found")


async def test_plans_need_a_key(client):
    assert_problem(await client.get("/v1/plans"), 401, "unauthorized")
