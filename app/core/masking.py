"""Masking of personal data for responses and logs.

PIPL art. 51 asks for de-identification wherever the full value is not needed; responses and logs
never need it. `redact` is the safety net applied to every log line, in case a value slips into a
message or an exception text.
"""

from __future__ import annotations

import re

# 18-character resident/residence-permit numbers, legacy 15-digit numbers, mainland mobiles.
_ID_18 = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{8})(\d{3}[0-9Xx])(?![0-9A-Za-z])")
_ID_15 = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{6})(\d{3})(?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<![0-9])(?:\+?86[ -]?)?(1[3-9]\d)[ -]?(\d{4})[ -]?(\d{4})(?![0-9])")
# Every pattern above holds three digits, at most one space or dash, then four digits: text
# without that holds nothing to mask. Every log line goes through `redact`; most hold no such
# run, and one search for it costs a fraction of the three patterns' lookbehinds.
_MAYBE_PERSONAL = re.compile(r"\d{3}[ -]?\d{4}")


def mask_id_number(value: str) -> str:
    """`310101199001011234` -> `310101********1234`: region kept, birth date hidden."""
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str) -> str:
    """`13812345678` -> `138****5678`."""
    if len(value) < 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_name(value: str) -> str:
    """`张三丰` -> `张**`: the family name is enough to recognise one's own record."""
    return value[:1] + "*" * (len(value) - 1) if value else value


def redact(text: str) -> str:
    """Mask anything in free text that looks like an ID number or a mobile number."""
    if _MAYBE_PERSONAL.search(text) is None:
        return text
    text = _ID_18.sub(lambda m: m.group(1) + "********" + m.group(3)[-4:], text)
    text = _ID_15.sub(lambda m: m.group(1) + "*****" + m.group(3)[-4:], text)
    return _MOBILE.sub(lambda m: m.group(1) + "****" + m.group(3), text)
