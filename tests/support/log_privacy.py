"""What the run's logs must never hold: a valid ID number or a mobile number as written, nor,
before masking, any of the suite's own ID numbers or its test phone. Used by
tests/test_logs_hold_no_personal_data.py in a process, and by the suite's end (tests/conftest.py)
over every pytest-xdist worker's logs together."""

from __future__ import annotations

import re

from app.rules.id_numbers import IdNumber, parse_id_number
from tests.support.enrolment import GANSU, IDLE, SLOW, TURNS_60_TODAY, TURNS_60_TOMORROW

CANDIDATE_ID = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])")
MOBILE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")
TEST_ID_NUMBERS = (GANSU, IDLE, SLOW, TURNS_60_TODAY, TURNS_60_TOMORROW)
TEST_PHONE = "13812345678"


def violations(written_lines: list[str], raw_messages: list[str]) -> list[str]:
    """What is wrong with these logs, in words; empty when nothing is."""
    written = "\n".join(written_lines)
    raw = "\n".join(raw_messages)
    found = []
    if [c for c in CANDIDATE_ID.findall(written) if isinstance(parse_id_number(c), IdNumber)]:
        found.append("ID numbers in written log lines")
    if MOBILE.findall(written):
        found.append("mobile numbers in written log lines")
    # Not even before masking: code must not hand these to a logger at all.
    if [n for n in TEST_ID_NUMBERS if n in raw]:
        found.append("the suite's ID numbers handed to a logger")
    if TEST_PHONE in raw:
        found.append("the suite's phone number handed to a logger")
    return found
