"""Resident identity numbers, GB 11643-1999.

Eighteen characters: 1-6 address code (where the hukou was registered; never used for
eligibility), 7-14 birth date YYYYMMDD, 15-17 sequence (17th odd = male), 18 check character
(ISO 7064 MOD 11-2). Residence permits for Hong Kong, Macau and Taiwan residents use the same
format with address codes 810000, 820000 and 830000. Fifteen-digit numbers from before 1999 are
refused with their own code: the holder must use the current card.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARACTERS = "10X98765432"
_SHAPE_18 = re.compile(r"^[0-9]{17}[0-9X]$")
_SHAPE_15 = re.compile(r"^[0-9]{15}$")
_PERMIT_ADDRESS_CODES = {
    "810000": "hong_kong",
    "820000": "macau",
    "830000": "taiwan",
}
EARLIEST_BIRTH_YEAR = 1800


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"


class IdNumberKind(StrEnum):
    RESIDENT = "resident"
    HK_MACAU_TAIWAN_PERMIT = "hk_macau_taiwan_permit"


class IdNumberProblem(StrEnum):
    """Why a number is refused. `legacy_id_number` is its own API code; the others are details
    of `invalid_id_number`."""

    LEGACY = "legacy_id_number"
    FORMAT = "format"
    CHECK_CHARACTER = "check_character"
    BIRTH_DATE = "birth_date"


@dataclass(frozen=True, slots=True)
class IdNumber:
    value: str
    birth_date: date
    sex: Sex
    kind: IdNumberKind
    address_code: str


@dataclass(frozen=True, slots=True)
class InvalidIdNumber:
    problem: IdNumberProblem

    @property
    def code(self) -> str:
        return "legacy_id_number" if self.problem is IdNumberProblem.LEGACY else "invalid_id_number"


def normalise(raw: str) -> str:
    """NFKC (full-width `１２３` becomes `123`), trim, and upper-case a final `x`.

    One person must always give one value: the stored number is what the look-up hash and the
    one-share-per-member rule are computed from.
    """
    return unicodedata.normalize("NFKC", raw).strip().upper()


def check_character(first17: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARACTERS[total % 11]


def parse_id_number(raw: str) -> IdNumber | InvalidIdNumber:
    value = normalise(raw)
    if _SHAPE_15.match(value):
        return InvalidIdNumber(IdNumberProblem.LEGACY)
    if not _SHAPE_18.match(value):
        return InvalidIdNumber(IdNumberProblem.FORMAT)
    if check_character(value[:17]) != value[17]:
        return InvalidIdNumber(IdNumberProblem.CHECK_CHARACTER)
    try:
        birth = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return InvalidIdNumber(IdNumberProblem.BIRTH_DATE)
    if birth.year < EARLIEST_BIRTH_YEAR:
        return InvalidIdNumber(IdNumberProblem.BIRTH_DATE)
    address = value[:6]
    kind = (
        IdNumberKind.HK_MACAU_TAIWAN_PERMIT
        if address in _PERMIT_ADDRESS_CODES
        else IdNumberKind.RESIDENT
    )
    sex = Sex.MALE if int(value[16]) % 2 == 1 else Sex.FEMALE
    return IdNumber(value=value, birth_date=birth, sex=sex, kind=kind, address_code=address)
