"""GB 11643-1999 resident ID numbers."""

from __future__ import annotations

from datetime import date

import pytest

from app.rules.id_numbers import (
    IdNumber,
    IdNumberKind,
    IdNumberProblem,
    InvalidIdNumber,
    Sex,
    check_character,
    parse_id_number,
)
from tests.support.rules import id_number


@pytest.mark.parametrize(
    ("raw", "birth", "sex"),
    [
        # domain.md's examples. 11010519491231002X: 17th digit 2 (even) -> female.
        ("11010519491231002X", date(1949, 12, 31), Sex.FEMALE),
        ("11010519491231002x", date(1949, 12, 31), Sex.FEMALE),
        # 440524188001010014: 17th digit 1 (odd) -> male, born 1 January 1880.
        ("440524188001010014", date(1880, 1, 1), Sex.MALE),
        (" 440524188001010014 ", date(1880, 1, 1), Sex.MALE),
    ],
)
def test_published_examples_parse(raw, birth, sex):
    parsed = parse_id_number(raw)

    assert isinstance(parsed, IdNumber)
    assert parsed.birth_date == birth
    assert parsed.sex == sex
    assert parsed.value == raw.strip().upper()
    assert parsed.kind == IdNumberKind.RESIDENT


def test_check_character_by_hand():
    # 11010519491231002: weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2
    # 1*7+1*9+0*10+1*5+0*8+5*4+1*2+9*1+4*6+9*3+1*7+2*9+3*10+1*5+0*8+0*4+2*2
    # = 7+9+0+5+0+20+2+9+24+27+7+18+30+5+0+0+4 = 167; 167 mod 11 = 2; "10X98765432"[2] = X
    assert isinstance(parse_id_number("11010519491231002X"), IdNumber)
    assert parse_id_number("110105194912310021") == InvalidIdNumber(IdNumberProblem.CHECK_CHARACTER)


def test_a_gansu_number_is_an_ordinary_number():
    parsed = parse_id_number(id_number(date(1990, 5, 20), address="620102"))
    assert isinstance(parsed, IdNumber)
    assert parsed.address_code == "620102"


@pytest.mark.parametrize("address", ["810000", "820000", "830000"])
def test_hong_kong_macau_taiwan_residence_permits_are_accepted(address):
    parsed = parse_id_number(id_number(date(1995, 3, 8), address=address))

    assert isinstance(parsed, IdNumber)
    assert parsed.kind == IdNumberKind.HK_MACAU_TAIWAN_PERMIT


def with_check(first17: str) -> str:
    return first17 + check_character(first17)


@pytest.mark.parametrize(
    ("raw", "problem", "code"),
    [
        ("310101900101123", IdNumberProblem.LEGACY, "legacy_id_number"),
        ("31010119900101123", IdNumberProblem.FORMAT, "invalid_id_number"),
        ("3101011990010112345", IdNumberProblem.FORMAT, "invalid_id_number"),
        ("31010119900101123Y", IdNumberProblem.FORMAT, "invalid_id_number"),
        ("3101011990010112X4", IdNumberProblem.FORMAT, "invalid_id_number"),
        ("", IdNumberProblem.FORMAT, "invalid_id_number"),
        (with_check("31010119900231123"), IdNumberProblem.BIRTH_DATE, "invalid_id_number"),
        (with_check("31010119901301123"), IdNumberProblem.BIRTH_DATE, "invalid_id_number"),
        (with_check("31010117000101123"), IdNumberProblem.BIRTH_DATE, "invalid_id_number"),
    ],
)
def test_refusals_have_codes(raw, problem, code):
    parsed = parse_id_number(raw)

    assert isinstance(parsed, InvalidIdNumber)
    assert parsed.problem == problem
    assert parsed.code == code


def test_full_width_digits_are_the_same_number_and_other_scripts_are_refused():
    full_width = "１１０１０５１９４９１２３１００２Ｘ"
    arabic_indic = "١١٠١٠٥١٩٤٩١٢٣١٠٠٢X"

    parsed = parse_id_number(full_width)
    assert isinstance(parsed, IdNumber)
    assert parsed.value == "11010519491231002X"
    assert parse_id_number(arabic_indic) == InvalidIdNumber(IdNumberProblem.FORMAT)
