"""After the whole suite: no log line it wrote holds an ID number or a mobile number.

The suite enrols people with real-shaped ID numbers and phones; every log record of the run is
captured (SuiteLog in tests/support/service.py). It reads what the run before it wrote, so it fails
when that was too little to mean anything (run alone, or with a handful of tests): a privacy check
that passes on an empty log proves nothing.
"""

from __future__ import annotations

import re

import pytest

from app.rules.id_numbers import IdNumber, parse_id_number
from tests.support.enrolment import GANSU, IDLE, SLOW, TURNS_60_TODAY, TURNS_60_TOMORROW
from tests.support.service import SUITE_LOG

CANDIDATE_ID = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])")
MOBILE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")
ENOUGH_LINES = 200
TEST_ID_NUMBERS = (GANSU, IDLE, SLOW, TURNS_60_TODAY, TURNS_60_TOMORROW)


@pytest.mark.last
def test_no_log_line_holds_an_id_number_or_a_phone():
    assert len(SUITE_LOG.written) >= ENOUGH_LINES, (
        f"only {len(SUITE_LOG.written)} log lines were captured: run this with the whole suite"
    )
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
