"""A union's batch is sold under the plan version in force when a new member's cover would start,
at that version's premium; a member's renewal row that would start under another version is
refused `plan_not_in_force`. Two made-up versions (tests/support/plans.py): the shipped one ending
31 December 2026 (¥72), the next from 1 January 2027 (¥84). Both databases."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select

from app.core.clock import SHANGHAI
from app.coverage.models import CoveragePeriodRecord
from tests.support.batches import RIDERS, apps_at, drain, row, submit
from tests.support.payments import notification, notify
from tests.support.plans import (
    NEXT_PREMIUM_FEN,
    NEXT_VERSION,
    SHIPPED_VERSION,
    shipped_book_after,
    two_versions,
)


def shanghai(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def at(app, settings, test_var_dir, db, tmp_path):
    """`async with at(moment) as (http, app):` the batch app at `moment`, with both versions."""
    directory = two_versions(tmp_path / "plans")
    with shipped_book_after():
        yield apps_at(settings, test_var_dir, db, MUTUALAID_PLANS_DIR=str(directory))


async def run_batch(at, union, moment: datetime, rows: list[dict], key: str) -> dict:
    """Submit, process, pay the invoice (if any) and activate, all at `moment`; the batch."""
    async with at(moment) as (http, application):
        batch = (await submit(http, union, rows, key=key)).json()
        await drain(application)
        done = (await http.get(f"/v1/enrolment-batches/{batch['id']}", headers=union)).json()
        if done["invoice"] is not None:
            await notify(http, notification(done["invoice"], paid_at=moment.isoformat()))
            await drain(application)
        page = await http.get(f"/v1/enrolment-batches/{batch['id']}/rows", headers=union)
        return done | {"rows": page.json()["rows"]}


async def test_a_batch_takes_the_version_of_its_cover_and_renewals_must_fit_it(at, union, db):
    first = await run_batch(
        at, union, shanghai(date(2026, 1, 5)), [row("a", RIDERS[0], "rider-0")], "b1"
    )
    # RIDERS[0] is covered 6 January 2026 .. 5 January 2027: a renewal bought on 20 December
    # starts on 6 January, under the next version; a new member's cover starts on 21 December.
    december = await run_batch(
        at,
        union,
        shanghai(date(2026, 12, 20)),
        [row("renew", RIDERS[0], "rider-0"), row("new", RIDERS[1], "rider-1")],
        "b2",
    )
    new_year = await run_batch(
        at, union, shanghai(date(2026, 12, 31)), [row("late", RIDERS[2], "rider-2")], "b3"
    )

    assert (first["plan_version"], first["invoice"]["amount_fen"]) == (SHIPPED_VERSION, 7200)
    assert december["plan_version"] == SHIPPED_VERSION
    assert [(r["ref"], r["outcome"], r["codes"]) for r in december["rows"]] == [
        ("renew", "rejected", ["plan_not_in_force"]),
        ("new", "accepted", []),
    ]
    assert december["invoice"]["amount_fen"] == 7200
    assert new_year["plan_version"] == NEXT_VERSION
    assert new_year["invoice"]["amount_fen"] == NEXT_PREMIUM_FEN
    async with db.reader() as session:
        periods = (
            await session.scalars(
                select(CoveragePeriodRecord).order_by(CoveragePeriodRecord.starts_on)
            )
        ).all()
    assert [(p.starts_on, p.plan_version) for p in periods] == [
        (date(2026, 1, 6), SHIPPED_VERSION),
        (date(2026, 12, 21), SHIPPED_VERSION),
        (date(2027, 1, 1), NEXT_VERSION),
    ]
