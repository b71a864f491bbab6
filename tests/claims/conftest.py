"""Claims fixtures: the app with its clock at 23 November 2026, 10:00 in Shanghai. Members
covered for 2026 (1 January to 31 December) come from `covered` (tests/conftest.py); claim
bodies and filing them from tests/support/claims.py."""

from __future__ import annotations

import pytest

from tests.support.claims import claims_app


@pytest.fixture
async def app(settings, test_var_dir, db):
    async with claims_app(settings, test_var_dir) as application:
        yield application
