"""`mutualaid demo` seeds a world worth looking at: what a newcomer sees over HTTP right after it
(every list and report has something in it, claims and payouts in each of their states), the
books balance, and a second run rotates the keys and adds nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.core.clock import Clock
from app.demo.seed import seed_demo
from app.demo.story import seed_world
from app.handlers import JOB_HANDLERS
from app.ledger.service import unbalanced_entries
from app.main import create_app
from app.members.models import Member
from tests.support.service import bearer


async def _demo(settings, db) -> tuple[dict[str, str], object]:
    """What `mutualaid demo` does: the keys (role -> key), then the world."""
    keys = {key.role: key.api_key for key in await seed_demo(db, _cipher(settings))}
    told = await seed_world(create_app, settings, JOB_HANDLERS, keys)
    return keys, told


def _cipher(settings):
    from app.core.crypto import PersonalDataCipher

    return PersonalDataCipher.from_settings(settings)


async def test_the_demo_world_shows_at_once_and_a_second_run_adds_nothing(settings, db, client):
    first_keys, told = await _demo(settings, db)
    async with db.reader() as session:
        members = await session.scalar(select(func.count()).select_from(Member))
    keys, again = await _demo(settings, db)

    assert again is None
    async with db.reader() as session:
        assert await session.scalar(select(func.count()).select_from(Member)) == members
        assert await unbalanced_entries(session) == 0
    old = await client.get("/v1/clients/me", headers=bearer(first_keys["examiner"]))
    assert old.status_code == 401  # rotated

    def as_(role: str) -> dict[str, str]:
        return bearer(keys[role])

    today = Clock().today()
    days = f"from={today - timedelta(days=130)}&to={today}"

    for status in (
        "pending_documents",
        "pending_review",
        "approved",
        "rejected",
        "withdrawn",
        "expired",
    ):
        page = await client.get(f"/v1/claims?status={status}", headers=as_("examiner"))
        assert page.status_code == 200, page.text
        assert page.json()["claims"], status
    appealed = await client.get("/v1/claims?status=pending_review", headers=as_("examiner"))
    assert any(claim.get("appeal") for claim in appealed.json()["claims"])

    for status in ("awaiting_account", "awaiting_approval", "ready", "paid", "failed"):
        page = await client.get(f"/v1/payouts?status={status}", headers=as_("finance"))
        assert page.json()["items"], status
    refunds = (await client.get("/v1/refunds", headers=as_("finance"))).json()["items"]
    assert [(r["reason"], r["status"]) for r in refunds] == [("duplicate_payment", "succeeded")]
    waiting = await client.get("/v1/enrolments?status=awaiting_payment", headers=as_("examiner"))
    assert [e["platform_worker_id"] for e in waiting.json()] == ["rider-109"]

    union = (await client.get("/v1/union/members?limit=1000", headers=as_("union"))).json()
    assert len(union["members"]) >= 9
    assert {m["cover"] for m in union["members"]} == {"active"}
    batches = (await client.get(f"/v1/reports/union-summary?{days}", headers=as_("union"))).json()
    assert batches["enrolments"]["batch"]["accepted"] == told.batch["accepted"] > 0
    assert told.batch["rejected"] > 0
    assert told.batch["duplicate"] > 0

    summary = (await client.get(f"/v1/reports/summary?{days}", headers=as_("examiner"))).json()
    assert summary["cover"]["active"] == told.covered > 10
    assert sum(benefit["filed"] for benefit in summary["claims"]) >= 12
    fund = (await client.get(f"/v1/reports/fund?{days}", headers=as_("finance"))).json()["fund"]
    assert fund["premiums_received_fen"] == (told.covered + 1) * 7200  # one paid twice
    assert fund["refunds_paid_fen"] == 7200
    assert fund["benefits_paid_fen"] > 0
    assert fund["fund_balance_fen"] > 0

    workers = [f"rider-{n}" for n in (*range(101, 109), *range(201, 207))]
    asked = await client.post(
        "/v1/platform/coverage-queries", json={"worker_ids": workers}, headers=as_("platform")
    )
    assert asked.status_code == 200, asked.text
    assert [r["covered"] for r in asked.json()["results"]] == [True] * len(workers)
    # The README's rider is left for newcomers to enrol.
    newcomer = await client.get("/v1/platform/workers/rider-001/coverage", headers=as_("platform"))
    assert newcomer.json()["covered"] is False
