"""District union fixtures: the enrolment app (clock at 23 November 2026, 10:00 in Shanghai,
platforms simulated; tests/support/enrolment.py) with the batch riders
(tests/support/batches.py), and the Xuhui and Pudong unions' keys."""

from __future__ import annotations

import pytest

from app.core.policy import Role
from tests.support.batches import BATCH_WORKERS, CLOSED_PORT_URL
from tests.support.enrolment import enrolment_app
from tests.support.service import bearer


@pytest.fixture
async def app(settings, test_var_dir, db):
    async with enrolment_app(
        settings, test_var_dir, db, workers=BATCH_WORKERS, slow_url=CLOSED_PORT_URL
    ) as application:
        yield application


@pytest.fixture
async def xuhui(api_key):
    return bearer(await api_key(Role.UNION, "SH-XUHUI", "xuhui district union"))


@pytest.fixture
async def pudong(api_key):
    return bearer(await api_key(Role.UNION, "SH-PUDONG", "pudong district union"))
