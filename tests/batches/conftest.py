"""Batch fixtures: the enrolment test app (clock at 23 November 2026, 10:00 Shanghai) with the
batch riders (tests/support/batches.py), union clients, and a way to run the job worker until it
has nothing to do."""

from __future__ import annotations

import pytest

from app.core.policy import Role
from tests.support.batches import BATCH_WORKERS, CLOSED_PORT_URL, apps_at, drain
from tests.support.enrolment import enrolment_app
from tests.support.service import bearer


@pytest.fixture
async def app(settings, test_var_dir, db):
    async with enrolment_app(
        settings, test_var_dir, db, workers=BATCH_WORKERS, slow_url=CLOSED_PORT_URL
    ) as application:
        yield application


@pytest.fixture
async def union(api_key):
    return bearer(await api_key(Role.UNION, "huangpu", "huangpu-union"))


@pytest.fixture
async def other_union(api_key):
    return bearer(await api_key(Role.UNION, "jingan", "jingan-union"))


@pytest.fixture
def run_jobs(app):
    """Run every due job, as the worker would, until none is left; returns how many ran."""

    async def run() -> int:
        return await drain(app)

    return run


@pytest.fixture
def app_at(settings, test_var_dir, db):
    """`async with app_at(moment) as (http, app):` the same database with the service's clock at
    `moment`, and every batch rider's last order an hour before it."""
    return apps_at(settings, test_var_dir, db)
