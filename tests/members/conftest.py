"""Members' fixtures: the claims app (clock at 23 November 2026, 10:00 in Shanghai)."""

from __future__ import annotations

import pytest

from tests.support.claims import claims_app


@pytest.fixture
async def app(settings, test_var_dir, db):
    async with claims_app(settings, test_var_dir) as application:
        yield application
