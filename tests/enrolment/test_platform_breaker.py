"""An individual application while its platform's breaker is open: the same answer as when the
platform cannot be reached (`pending_review`, for an examiner), given at once, without calling
the platform; the platform's other applicants and other platforms are not affected."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from tests.support.enrolment import GANSU, SLOW, TURNS_60_TOMORROW, application, apply

# Two failed attempts (one application's, against a platform that answers too late) open it.
THRESHOLD = 2
TIMEOUT_SECONDS = 0.3


@pytest.fixture
def app(app):
    runtime = app.state.runtime
    settings = runtime.settings.model_copy(
        update={
            "platform_breaker_threshold": THRESHOLD,
            "platform_timeout_seconds": TIMEOUT_SECONDS,
        }
    )
    app.state.runtime = replace(runtime, settings=settings)
    return app


def platform_check(response) -> dict:
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "pending_review"
    return response.json()["checks"][1]


async def test_an_open_breaker_answers_pending_review_at_once(http, citizen):
    slow = application(SLOW, "rider-slow", platform_code="slow-delivery")
    first = await apply(http, citizen, slow, key="first")
    assert platform_check(first)["detail"] == "platform could not verify: timed out"

    started = time.monotonic()
    again = await apply(
        http,
        citizen,
        application(TURNS_60_TOMORROW, "rider-slow", platform_code="slow-delivery"),
        "again",
    )
    took = time.monotonic() - started

    assert platform_check(again) == {
        "code": "platform_work",
        "passed": False,
        "detail": "platform could not verify: not asked: the platform has been failing "
        "(its breaker is open)",
    }
    assert took < TIMEOUT_SECONDS  # not one attempt's timeout, let alone every attempt's
    # Another platform is asked as usual.
    other = await apply(http, citizen, application(GANSU, "rider-gansu"), "other")
    assert other.status_code == 201, other.text
    assert other.json()["status"] == "awaiting_payment"
