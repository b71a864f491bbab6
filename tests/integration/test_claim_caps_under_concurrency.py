"""The condolence cap and the ceiling hold when claims for one member arrive all at once: two
real `mutualaid serve` processes on PostgreSQL, each answering over many connections."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import date, timedelta

import httpx
import pytest
from sqlalchemy import func, select

from app.core.policy import Role
from app.coverage.models import BenefitUsageRecord, PeriodUsage
from app.payouts.models import Payout
from tests.support.claims import NOW, claim
from tests.support.processes import environment, free_port, running, start, wait_until_serving
from tests.support.seeding import covered_member
from tests.support.service import bearer

pytestmark = pytest.mark.only_backend("postgresql")


@pytest.fixture
async def servers(settings, db):
    """Two API processes on the test database, with the clock at NOW."""
    env = environment(settings) | {
        "MUTUALAID_CLOCK": NOW.isoformat(),
        "MUTUALAID_DB_POOL_SIZE": "8",
    }
    ports = [free_port(), free_port()]
    processes = [start(["serve", "--port", str(port)], env) for port in ports]
    with running(*processes):
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        for url in urls:
            await wait_until_serving(url)
        yield urls


@pytest.fixture
async def member(db, runtime):
    return (await covered_member(db, runtime, number=424242, starts_on=date(2026, 1, 1))).member_id


async def _all_at_once(urls, headers, paths_and_bodies, idempotent=True):
    """Send every request at once, alternating between the servers, 50 connections each."""
    limits = httpx.Limits(max_connections=50)
    clients = [httpx.AsyncClient(base_url=url, limits=limits, timeout=60) for url in urls]
    try:
        return await asyncio.gather(
            *(
                clients[n % len(clients)].post(
                    path,
                    json=body,
                    headers=headers
                    | ({"Idempotency-Key": str(uuid.uuid4())} if idempotent else {}),
                )
                for n, (path, body) in enumerate(paths_and_bodies)
            )
        )
    finally:
        for client in clients:
            await client.aclose()


async def test_two_hundred_condolences_at_once_pay_twelve(servers, member, api_key, db):
    citizen = bearer(await api_key(Role.CITIZEN_APP, None, "app"))
    bodies = [
        claim(
            member,
            "accident_condolence",
            "accident",
            date(2026, 2, 1) + timedelta(days=n % 200),
            f"acc-{n}",
        )
        for n in range(200)
    ]
    responses = await _all_at_once(servers, citizen, [("/v1/claims", b) for b in bodies])
    assert Counter(r.status_code for r in responses) == {201: 200}
    decided = [r.json() for r in responses]
    assert Counter(c["status"] for c in decided) == {"approved": 12, "rejected": 188}
    assert sum(c["decision"]["payable_fen"] for c in decided) == 600_000
    assert {
        r["code"] for c in decided if c["status"] == "rejected" for r in c["decision"]["reasons"]
    } == {"condolence_cap_reached"}
    async with db.reader() as session:
        assert await session.scalar(select(func.sum(Payout.amount_fen))) == 600_000
        assert await session.scalar(select(func.count()).select_from(Payout)) == 12
        counter = await session.scalar(select(BenefitUsageRecord.paid_fen))
        assert counter == 600_000


async def test_a_hundred_large_claims_at_once_never_pass_the_ceiling(servers, member, api_key, db):
    citizen = bearer(await api_key(Role.CITIZEN_APP, None, "app"))
    examiner = bearer(await api_key(Role.EXAMINER, None, "examiner"))
    # A hundred accidents, each graded 1 (¥600,000): filed, then all approved at once.
    bodies = [
        claim(
            member,
            "accidental_disability",
            "accident",
            date(2026, 2, 1) + timedelta(days=n),
            f"crash-{n}",
            assessed_on=date(2026, 11, 1),
            injuries=[{"grade": 1}],
        )
        for n in range(100)
    ]
    filed = await _all_at_once(servers, citizen, [("/v1/claims", b) for b in bodies])
    assert Counter(r.json()["status"] for r in filed) == {"pending_review": 100}
    reviewed = await _all_at_once(
        servers,
        examiner,
        [(f"/v1/claims/{r.json()['id']}/review", {"decision": "approve"}) for r in filed],
        idempotent=False,
    )
    assert Counter(r.status_code for r in reviewed) == {200: 100}
    paid = sorted((r.json()["decision"]["payable_fen"] for r in reviewed), reverse=True)
    assert paid[:2] == [60_000_000, 12_000_000]
    assert sum(paid) == 72_000_000
    assert Counter(r.json()["status"] for r in reviewed) == {"approved": 2, "rejected": 98}
    async with db.reader() as session:
        assert await session.scalar(select(func.sum(Payout.amount_fen))) == 72_000_000
        assert await session.scalar(select(PeriodUsage.total_paid_fen)) == 72_000_000
