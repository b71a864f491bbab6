"""Privacy fixtures: the claims app (clock at 23 November 2026, 10:00 in Shanghai) with a
retention period of 180 days."""

from __future__ import annotations

import pytest

from app.main import create_app
from tests.support.claims import NOW
from tests.support.service import make_settings

RETENTION_DAYS = 180


@pytest.fixture
async def app(settings, test_var_dir, db):
    application = create_app(
        make_settings(
            settings.database_url,
            test_var_dir,
            MUTUALAID_CLOCK=NOW.isoformat(),
            MUTUALAID_RETENTION_DAYS=str(RETENTION_DAYS),
        )
    )
    yield application
    await application.state.runtime.close()
