"""Fixtures: one `mutualaid sms-sim` process for a module's tests, emptied before each; and the
app sending through an in-process simulator, for the database tests of sending."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from app.notifications.simulator import SmsSim
from app.platforms.simulator import create_simulator
from tests.support.enrolment import NOW, WORKERS, close_app, make_enrol_app
from tests.support.sms import SMS_SETTINGS, sms_sim_process, with_sms_simulator


@pytest.fixture(scope="module")
async def sms_sim_url() -> AsyncIterator[str]:
    async with sms_sim_process() as url:
        yield url


@pytest.fixture
async def sms_control(sms_sim_url) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sms_sim_url, timeout=10) as control:
        assert (await control.delete("/_sim/messages")).status_code == 200
        yield control


@pytest.fixture
def sms_settings():
    """The service's SMS settings (tests/support/sms.py); parametrized by tests that need
    others (a lower cap, fewer attempts, no gateway at all)."""
    return SMS_SETTINGS


@pytest.fixture
async def app(settings, test_var_dir, db, slow_platform_url, sms_settings) -> AsyncIterator[Any]:
    """The enrolment app (clock at 23 November 2026 10:00 in Shanghai, platforms answering
    through the simulator, tests/support/enrolment.py), sending messages to an in-process SMS
    simulator (`app.state.sms`)."""
    application = await make_enrol_app(
        settings,
        test_var_dir,
        db,
        now=NOW,
        workers=WORKERS,
        slow_url=slow_platform_url,
        **sms_settings,
    )
    await application.state.runtime.http.aclose()
    platform = httpx.ASGITransport(app=create_simulator(WORKERS))
    application.state.sms = with_sms_simulator(application, **{"http://platform.test": platform})
    yield application
    await close_app(application)


@pytest.fixture
def sms(app) -> SmsSim:
    sim: SmsSim = app.state.sms
    return sim
