"""Webhook fixtures: the enrolment app (clock at 23 November 2026, 10:00 Shanghai, platforms
answering through the simulator) with webhooks allowed to reach 127.0.0.1 over plain HTTP and
retried at once (tests/support/webhooks.py), and a job worker."""

from __future__ import annotations

import pytest

from tests.support.enrolment import enrolment_app
from tests.support.jobs import run_jobs_but_messages
from tests.support.webhooks import TEST_SETTINGS


@pytest.fixture
def webhook_settings():
    """Overridden by tests that need other limits (a shorter retry window)."""
    return TEST_SETTINGS


@pytest.fixture
async def app(settings, test_var_dir, db, slow_platform_url, webhook_settings):
    async with enrolment_app(
        settings, test_var_dir, db, slow_url=slow_platform_url, **webhook_settings
    ) as application:
        yield application


@pytest.fixture
def run_jobs(app):
    """`await run_jobs()` runs every due job until none is left; the number run (messages to
    workers set aside, not counted: tests/support/jobs.py)."""

    async def run(limit: int = 50) -> int:
        return await run_jobs_but_messages(app, limit, lease_seconds=30)

    return run
