"""The plan file: what it says, and that a bad one fails naming the key at fault."""

from __future__ import annotations

import re
from importlib import resources

import pytest

from app.plans import parse_plan_text
from app.rules.plan import PlanError
from app.rules.vocabulary import BENEFITS
from tests.support.rules import shanghai_plan

PLAN_TEXT = (resources.files("app.plans") / "shanghai-new-employment-e.toml").read_text("utf-8")


def edited(old: str, new: str) -> str:
    assert PLAN_TEXT.count(old) == 1, old
    return PLAN_TEXT.replace(old, new)


def test_the_shanghai_plan_states_the_published_numbers_as_confirmed():
    plan = shanghai_plan()

    assert (plan.premium_fen.value, plan.premium_fen.confirmed) == (7200, True)
    assert (plan.ceiling_fen.value, plan.ceiling_fen.confirmed) == (72_000_000, True)
    assert plan.eligibility.under_age.value == 60
    assert plan.eligibility.under_age.confirmed
    assert plan.eligibility.hukou_required.value is False
    assert set(plan.eligibility.work_types.value) == {
        "ride_hailing",
        "food_delivery",
        "instant_delivery",
        "same_city_freight",
        "express_delivery",
    }
    condolence = plan.benefit("accident_condolence")
    assert condolence.params["amount_per_event_fen"].value == 50_000
    assert condolence.params["amount_per_event_fen"].confirmed
    assert condolence.params["max_per_period_fen"].value == 600_000
    assert set(plan.benefits) == BENEFITS
    assert "covid_19" in plan.diseases


def test_what_the_announcement_does_not_publish_is_unconfirmed():
    plan = shanghai_plan()

    assert not plan.eligibility.min_age.confirmed
    assert not plan.period.months.confirmed
    assert not plan.waiting.illness_days.confirmed
    assert not plan.claims.deadline_years.confirmed
    for code in (
        "hospital_allowance",
        "critical_illness",
        "critical_illness_medical",
        "illness_death",
        "accidental_death",
    ):
        amounts = [p for name, p in plan.benefit(code).params.items() if name.endswith("_fen")]
        assert amounts
        assert not any(p.confirmed for p in amounts), code


def test_the_2020_disease_list_is_complete():
    plan = shanghai_plan()
    severe = [
        d for d in plan.diseases.values() if "severe" in d.severities and d.code != "covid_19"
    ]
    mild = [d for d in plan.diseases.values() if "mild" in d.severities]

    assert len(severe) == 28
    assert len(mild) == 3


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        (
            "premium_fen = { value = 7200, confirmed = true }",
            'premium_fen = { value = "72", confirmed = true }',
            "premium_fen.value",
        ),
        ("premium_fen = { value = 7200, confirmed = true }", "", "premium_fen"),
        (
            "mild_percent = { value = 30, confirmed = false }",
            "mild_percent = { value = 130, confirmed = false }",
            "benefits.critical_illness.mild_percent.value",
        ),
        (
            "daily_rate_fen = { value = 10000, confirmed = false }",
            "daily_rate_fen = 10000",
            "benefits.hospital_allowance.daily_rate_fen",
        ),
        (
            'day_count = { value = "nights", confirmed = false }',
            'day_count = { value = "weeks", confirmed = false }',
            "benefits.hospital_allowance.day_count.value",
        ),
        (
            "min_age = { value = 16, confirmed = false }",
            "min_age = { value = 16, confirmed = false }\nmin_agee = 3",
            "eligibility.min_agee",
        ),
        (
            'work_types = { value = ["ride_hailing",',
            'work_types = { value = ["horse_riding",',
            "eligibility.work_types.value",
        ),
        ("[benefits.illness_death]", "[benefits.illness_deaths]", "benefits.illness_deaths"),
        (
            "illness_days = { value = 30, confirmed = false }",
            'illness_days = { value = 30, confirmed = "no" }',
            "waiting.illness_days.confirmed",
        ),
        ('code = "deep_coma"', 'code = "deafness"', "diseases[12].code"),
        ("format = 1", "format = 2", "format"),
        ("format = 1", "format = true", "format"),
        (
            "effective_from = { value = 2023-07-01,",
            "effective_from = { value = 2023-07-01T08:00:00,",
            "effective_from.value",
        ),
        (
            "max_days_after_period_end = { value = 0,",
            "max_days_after_period_end = { value = 9000000000,",
            "benefits.hospital_allowance.max_days_after_period_end.value",
        ),
        (
            "mild_percent = { value = 30,",
            "mild_percent = { value = 31,",
            "benefits.critical_illness.mild_percent.value",
        ),
        (
            "grade_percents = { value = [100, 90,",
            "grade_percents = { value = [90, 100,",
            "benefits.accidental_disability.grade_percents.value",
        ),
        (
            "hukou_required = { value = false,",
            "hukou_required = { value = true,",
            "eligibility.hukou_required.value",
        ),
    ],
)
def test_a_bad_file_fails_naming_the_key(old, new, key):
    with pytest.raises(PlanError) as error:
        parse_plan_text(edited(old, new))

    assert error.value.key == key
    assert str(error.value).startswith(f"{key}: ")


def test_broken_toml_is_reported_with_the_file():
    with pytest.raises(PlanError, match=re.escape("plan.toml: not valid TOML")):
        parse_plan_text("code = ", "plan.toml")


@pytest.mark.parametrize(
    ("faults", "key"),
    [
        (
            [
                ('code = "shanghai-new-employment-e"', 'code = ""'),
                (
                    "min_age = { value = 16, confirmed = false }",
                    "bogus = 1\nmin_age = { value = 16, confirmed = false }",
                ),
            ],
            "eligibility.bogus",
        ),
        (
            [
                ("premium_fen = { value = 7200,", "premium_fen = { value = 0,"),
                ("[benefits.illness_death]", "[benefits.illness_deaths]"),
            ],
            "benefits.illness_deaths",
        ),
        (
            [
                ("min_age = { value = 16,", "min_age = { value = -1,"),
                ("[waiting]", "[waiting]\nbogus = 1"),
            ],
            "waiting.bogus",
        ),
    ],
)
def test_a_file_with_several_faults_is_refused_for_its_shape_first(faults, key):
    """An operator fixing a file one error at a time sees a missing table or an unknown key
    before any bad value, whatever the order of the sections."""
    text = PLAN_TEXT
    for old, new in faults:
        assert text.count(old) == 1, old
        text = text.replace(old, new)

    with pytest.raises(PlanError) as error:
        parse_plan_text(text)

    assert error.value.key == key


def test_benefits_keep_the_plan_files_order():
    """Not the vocabulary's set order, which changes from one process to the next."""
    condolence = PLAN_TEXT.index("[benefits.accident_condolence]")
    diseases = PLAN_TEXT.index("[[diseases]]")
    block = PLAN_TEXT[condolence:diseases]
    moved_first = PLAN_TEXT.replace(block, "").replace(
        "[benefits.hospital_allowance]", block + "[benefits.hospital_allowance]"
    )

    assert list(parse_plan_text(moved_first).benefits)[:2] == [
        "accident_condolence",
        "hospital_allowance",
    ]
    assert next(iter(parse_plan_text(PLAN_TEXT).benefits)) == "hospital_allowance"


def test_the_lifecycle_values_are_in_the_plan_and_unconfirmed():
    plan = parse_plan_text(PLAN_TEXT)

    for param, value in (
        (plan.period.renewal_grace_days, 30),
        (plan.claims.documents_due_days, 90),
        (plan.claims.appeal_days, 60),
        (plan.eligibility.cover_continues_past_age_limit, True),
    ):
        assert (param.value, param.confirmed) == (value, False)
