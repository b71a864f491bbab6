"""Changing a number in the plan file changes decisions, with no code touched."""

from __future__ import annotations

from datetime import date
from importlib import resources

from app.plans import parse_plan_text
from app.rules.adjudication import decide_all
from app.rules.facts import CondolenceFacts, HospitalStay
from tests.support.rules import claim, cover

PLAN_TEXT = (resources.files("app.plans") / "shanghai-new-employment-e.toml").read_text("utf-8")


def modified(**replacements: tuple[str, str]) -> str:
    text = PLAN_TEXT
    for old, new in replacements.values():
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


def the_real_case(plan):
    """A rider falls on a delivery and spends 15 days in hospital (domain.md's real case)."""
    fall = date(2026, 9, 1)
    claims = [
        claim("accident_condolence", CondolenceFacts(), on=fall, ref="fall"),
        claim("hospital_allowance", HospitalStay(fall, date(2026, 9, 16)), on=fall, ref="fall"),
    ]
    decisions, _ = decide_all(plan, claims, cover())
    return [d.payable_fen for d in decisions]


def test_the_shipped_schedule():
    plan = parse_plan_text(PLAN_TEXT)
    # ¥500 condolence; 15 nights x ¥100 = ¥1,500.
    assert the_real_case(plan) == [50_000, 150_000]


def test_a_daily_rate_of_320_reproduces_the_published_5300():
    plan = parse_plan_text(
        modified(
            rate=(
                "daily_rate_fen = { value = 10000, confirmed = false }",
                "daily_rate_fen = { value = 32000, confirmed = true }",
            ),
        )
    )
    # ¥500 + 15 x ¥320 = ¥500 + ¥4,800 = ¥5,300, the amount the case was paid.
    assert the_real_case(plan) == [50_000, 480_000]
    assert sum(the_real_case(plan)) == 530_000
    assert plan.benefit("hospital_allowance").params["daily_rate_fen"].confirmed


def test_a_deductible_and_a_smaller_condolence():
    plan = parse_plan_text(
        modified(
            deductible=(
                "deductible_days_per_stay = { value = 0, confirmed = false }",
                "deductible_days_per_stay = { value = 3, confirmed = false }",
            ),
            condolence=(
                "amount_per_event_fen = { value = 50000, confirmed = true }",
                "amount_per_event_fen = { value = 30000, confirmed = true }",
            ),
        )
    )
    # ¥300 condolence; (15 - 3) nights x ¥100 = ¥1,200.
    assert the_real_case(plan) == [30_000, 120_000]
