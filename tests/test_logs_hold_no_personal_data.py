"""After the whole suite: no log line it wrote holds an ID number or a mobile number.

The suite enrols people with real-shaped ID numbers and phones; every log record of the run is
captured (tests/conftest.py, SuiteLog). Run alone, this test has nothing to read and skips.
"""

from __future__ import annotations

import re

import pytest

from app.rules.id_numbers import IdNumber, parse_id_number
from tests.conftest import SUITE_LOG
from tests.enrolment.conftest import GANSU, IDLE, SLOW, TURNS_60_TODAY, TURNS_60_TOMORROW

CANDIDATE_ID = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])")
MOBILE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")
TEST_ID_NUMBERS = (GANSU, IDLE, SLOW, TURNS_60_TODAY, TURNS_60_TOMORROW)


@pytest.mark.last
def test_no_log_line_holds_an_id_number_or_a_phone():
    if len(SUITE_LOG.written) < 200:
        pytest.skip("run with the whole suite: there are no logs to read yet")
    written = "\n".join(SUITE_LOG.written)
    valid_ids = [
        c for c in CANDIDATE_ID.findall(written) if isinstance(parse_id_number(c), IdNumber)
    ]
    raw = "\n".join(SUITE_LOG.raw)

    assert valid_ids == [], "ID numbers in written log lines"
    assert MOBILE.findall(written) == [], "mobile numbers in written log lines"
    # Not even before masking: code must not hand these to a logger at all.
    assert [n for n in TEST_ID_NUMBERS if n in raw] == []
    assert "13812345678" not in raw
