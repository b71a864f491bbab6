"""Enrolment fixtures: an app with a fixed clock (23 November 2026, 10:00 in Shanghai) and
platforms that answer through the real simulator (tests/support/enrolment.py)."""

from __future__ import annotations

import pytest

from tests.support.enrolment import enrolment_app


@pytest.fixture
async def app(settings, test_var_dir, db, slow_platform_url):
    async with enrolment_app(settings, test_var_dir, db, slow_url=slow_platform_url) as application:
        yield application
