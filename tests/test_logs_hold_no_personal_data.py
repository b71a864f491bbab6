"""After the whole suite: no log line it wrote holds an ID number or a mobile number.

The suite enrols people with real-shaped ID numbers and phones; every log record of the run is
captured (SuiteLog in tests/support/service.py). It reads what the run before it wrote, so it fails
when that was too little to mean anything (run alone, or with a handful of tests): a privacy check
that passes on an empty log proves nothing. With pytest-xdist this test sees its own worker's
logs; the suite's end checks every worker's together (tests/conftest.py).
"""

from __future__ import annotations

import pytest

from tests.support.log_privacy import violations
from tests.support.service import SUITE_LOG

ENOUGH_LINES = 200


@pytest.mark.last
def test_no_log_line_holds_an_id_number_or_a_phone():
    assert len(SUITE_LOG.written) >= ENOUGH_LINES, (
        f"only {len(SUITE_LOG.written)} log lines were captured: run this with the whole suite"
    )
    assert violations(SUITE_LOG.written, SUITE_LOG.raw) == []
