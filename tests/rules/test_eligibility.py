"""Eligibility is a list of failed checks, each with its code."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from app.rules.eligibility import (
    Applicant,
    PlatformWork,
    check_applicant,
    check_first_day_age,
    check_platform_work,
)
from tests.support.rules import id_number, shanghai_plan

PLAN = shanghai_plan()
TODAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)


def applicant(**changes) -> Applicant:
    values = {
        "id_number": id_number(date(1990, 5, 20), address="620102"),  # born in Gansu
        "work_city": "shanghai",
        "work_type": "food_delivery",
        "platform_known": True,
    }
    return Applicant(**(values | changes))


def codes(failures) -> list[str]:
    return [f.code for f in failures]


def test_a_gansu_born_food_delivery_worker_in_shanghai_is_eligible():
    assert check_applicant(PLAN, applicant(), TODAY) == []


@pytest.mark.parametrize("city", ["Shanghai", "上海", "上海市"])
def test_shanghai_however_written(city):
    assert check_applicant(PLAN, applicant(work_city=city), TODAY) == []


def test_the_day_before_the_60th_birthday_is_accepted_the_birthday_is_not():
    born = date(1966, 11, 24)  # 60th birthday: 24 November 2026
    assert check_applicant(PLAN, applicant(id_number=id_number(born)), TODAY) == []

    on_birthday = check_applicant(PLAN, applicant(id_number=id_number(born)), date(2026, 11, 24))
    assert codes(on_birthday) == ["age_limit"]
    assert "1966" not in on_birthday[0].detail  # the birth date stays masked


def test_under_the_minimum_age():
    born = date(2010, 11, 24)  # 16 on 24 November 2026
    assert codes(check_applicant(PLAN, applicant(id_number=id_number(born)), TODAY)) == [
        "age_below_minimum"
    ]
    assert check_applicant(PLAN, applicant(id_number=id_number(born)), date(2026, 11, 24)) == []


def test_every_failure_is_listed_not_just_the_first():
    failures = check_applicant(
        PLAN,
        applicant(
            id_number="310101900101123",
            work_city="beijing",
            work_type="tutoring",
            platform_known=False,
        ),
        TODAY,
    )
    assert codes(failures) == [
        "legacy_id_number",
        "work_city_not_covered",
        "work_type_not_covered",
        "platform_unknown",
    ]


def test_a_bad_check_character_is_invalid_id_number():
    valid = id_number(date(1990, 5, 20))
    wrong = valid[:17] + ("0" if valid[17] != "0" else "1")
    assert codes(check_applicant(PLAN, applicant(id_number=wrong), TODAY)) == ["invalid_id_number"]


def work(**changes) -> PlatformWork:
    values = {
        "registered": True,
        "city": "shanghai",
        "work_type": "food_delivery",
        "orders_last_7_days": 23,
        "last_order_at": NOW - timedelta(hours=5),
    }
    return PlatformWork(**(values | changes))


def test_platform_work_verified():
    assert check_platform_work(PLAN, work(), "food_delivery", NOW) == []


@pytest.mark.parametrize(
    "changes",
    [
        {"registered": False},
        {"city": "beijing"},
        {"city": None},
        {"work_type": "ride_hailing"},
        {"orders_last_7_days": 0, "last_order_at": NOW - timedelta(days=8)},
        {"orders_last_7_days": 0},
        {"last_order_at": None},
        {"last_order_at": NOW + timedelta(days=3)},
    ],
)
def test_platform_work_not_verified(changes):
    failures = check_platform_work(PLAN, work(**changes), "food_delivery", NOW)
    assert codes(failures) == ["platform_work_not_verified"]


def test_a_renewal_starting_on_or_after_the_60th_birthday_is_refused_at_application():
    born = date(1967, 11, 20)  # 60th birthday: 20 November 2027
    number = id_number(born)

    assert codes(check_first_day_age(PLAN, number, date(2027, 11, 19))) == []
    assert codes(check_first_day_age(PLAN, number, date(2027, 11, 20))) == ["age_limit"]
    assert check_first_day_age(PLAN, "not a number", date(2027, 11, 20)) == []
