"""Plan versions: the shipped ones and the operator's (`MUTUALAID_PLANS_DIR`), refused when they
overlap, and shown by `GET /v1/plans`, `/v1/plans/{code}` and `/v1/plans/{code}/versions/{v}`."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime

import pytest

from app import plans
from app.core.clock import SHANGHAI
from app.core.policy import Role
from app.main import create_app
from app.rules.plan import PlanError
from tests.support.clients import assert_problem
from tests.support.plans import (
    CODE,
    NEXT_PREMIUM_FEN,
    NEXT_VERSION,
    SHIPPED_VERSION,
    edited,
    next_version,
    plans_dir,
    shipped_book_after,
    shipped_ending,
    two_versions,
)
from tests.support.service import asgi_client, bearer, make_settings


def test_the_operators_directory_adds_a_version_and_may_end_the_shipped_one(tmp_path):
    book = plans.load(two_versions(tmp_path))

    old, new = book.versions(CODE)
    assert (old.version, old.effective_to.value) == (SHIPPED_VERSION, date(2026, 12, 31))
    assert (new.version, new.effective_from.value) == (NEXT_VERSION, date(2027, 1, 1))
    assert new.premium_fen.value == NEXT_PREMIUM_FEN
    # Without the directory, only the shipped version, open-ended.
    [shipped] = plans.load(None).versions(CODE)
    assert shipped.effective_to.value == date(2099, 12, 31)


@pytest.mark.parametrize(
    ("files", "message"),
    [
        # Next year's version while the shipped one still runs to 2099.
        ({"next_year": next_version()}, "2027.1 starts on 2027-01-01"),
        # The shipped version's terms changed under its own name.
        (
            {
                "shipped": edited(
                    shipped_ending(),
                    ("min_age = { value = 16", "min_age = { value = 18"),
                )
            },
            "may end it earlier (effective_to) but not change its terms",
        ),
        # Two files of one new version.
        (
            {"a": next_version(), "b": next_version(), "shipped": shipped_ending()},
            "version 2027.1 is given twice",
        ),
        ({"broken": "code = "}, "broken.toml"),
    ],
)
def test_a_plans_directory_that_cannot_be_used_is_refused_at_load(tmp_path, files, message):
    with pytest.raises(PlanError, match=re.escape(message)):
        plans.load(plans_dir(tmp_path, **files))


def test_a_missing_plans_directory_stops_the_start(settings, test_var_dir, tmp_path):
    with pytest.raises(PlanError, match="MUTUALAID_PLANS_DIR"):
        create_app(
            make_settings(
                settings.database_url, test_var_dir, MUTUALAID_PLANS_DIR=str(tmp_path / "none")
            )
        )


@pytest.fixture
def plans_app_at(settings, test_var_dir, tmp_path, db):
    """`async with plans_app_at(moment) as http:` an app with the two test versions installed
    and its clock at `moment`."""
    directory = two_versions(tmp_path / "plans")

    @asynccontextmanager
    async def open_at(moment: datetime) -> AsyncIterator[object]:
        with shipped_book_after():
            application = create_app(
                make_settings(
                    settings.database_url,
                    test_var_dir,
                    MUTUALAID_CLOCK=moment.isoformat(),
                    MUTUALAID_PLANS_DIR=str(directory),
                )
            )
            try:
                async with asgi_client(application) as http:
                    yield http
            finally:
                await application.state.runtime.close()

    return open_at


async def test_a_plan_shows_the_version_in_force_today_and_lists_every_version(
    plans_app_at, api_key
):
    headers = bearer(await api_key(Role.CITIZEN_APP))
    async with plans_app_at(datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)) as http:
        now = (await http.get(f"/v1/plans/{CODE}", headers=headers)).json()
        listed = (await http.get("/v1/plans", headers=headers)).json()["plans"]
    async with plans_app_at(datetime(2027, 1, 1, 0, 0, tzinfo=SHANGHAI)) as http:
        later = (await http.get(f"/v1/plans/{CODE}", headers=headers)).json()

    assert (now["version"], now["premium_fen"]["value"]) == (SHIPPED_VERSION, 7200)
    assert now["versions"] == [
        {
            "version": SHIPPED_VERSION,
            "effective_from": "2023-07-01",
            "effective_to": "2026-12-31",
            "premium_fen": 7200,
            "status": "in_force",
        },
        {
            "version": NEXT_VERSION,
            "effective_from": "2027-01-01",
            "effective_to": "2099-12-31",
            "premium_fen": NEXT_PREMIUM_FEN,
            "status": "upcoming",
        },
    ]
    assert [(p["code"], p["version"]) for p in listed] == [(CODE, SHIPPED_VERSION)]
    assert (later["version"], later["premium_fen"]["value"]) == (NEXT_VERSION, NEXT_PREMIUM_FEN)
    assert [v["status"] for v in later["versions"]] == ["past", "in_force"]
    hospital = next(b for b in later["benefits"] if b["code"] == "hospital_allowance")
    assert hospital["parameters"]["daily_rate_fen"]["value"] == 12_000


async def test_one_version_by_name_and_a_version_that_does_not_exist(plans_app_at, api_key):
    headers = bearer(await api_key(Role.EXAMINER))
    async with plans_app_at(datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)) as http:
        upcoming = await http.get(f"/v1/plans/{CODE}/versions/{NEXT_VERSION}", headers=headers)
        missing = await http.get(f"/v1/plans/{CODE}/versions/2030.9", headers=headers)
        no_plan = await http.get(f"/v1/plans/nope/versions/{NEXT_VERSION}", headers=headers)

    assert upcoming.status_code == 200
    assert (upcoming.json()["version"], upcoming.json()["premium_fen"]["value"]) == (
        NEXT_VERSION,
        NEXT_PREMIUM_FEN,
    )
    assert_problem(missing, 404, "plan_version_not_found")
    assert_problem(no_plan, 404, "plan_not_found")
