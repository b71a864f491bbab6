"""Platform partner fixtures: the claims app (clock at 23 November 2026, 10:00 Shanghai), two
platforms, and covered workers written straight to the tables (tests/support/partners.py)."""

from __future__ import annotations

import pytest

from app.core.policy import Role
from tests.support.claims import claims_app
from tests.support.partners import OTHER_PLATFORM, add_other_platform, covered_workers
from tests.support.service import bearer


@pytest.fixture
async def app(settings, test_var_dir, db):
    async with claims_app(settings, test_var_dir) as application:
        yield application


@pytest.fixture
async def platforms(db, runtime, seeder):
    """`demo-delivery` (from the seeder) and `other-rides`."""
    await add_other_platform(db, runtime)
    return seeder


@pytest.fixture
def worker(db, runtime, platforms):
    """`await worker(platform, starts_on=..., died_on=...)` -> the new worker's platform id."""
    return covered_workers(db, runtime, platforms)


@pytest.fixture
async def rides(api_key):
    return bearer(await api_key(Role.PLATFORM, OTHER_PLATFORM, "other-rides-api"))
