"""The database connection of a real `mutualaid serve` process dies in the middle of a claim,
on PostgreSQL: the claim is stored whole or not at all, the client gets a retryable 503, and a
retry with the same `Idempotency-Key` files it exactly once.

The fault is made deterministic with a table lock: another connection holds `payouts` in
ACCESS EXCLUSIVE mode, so the statement that writes the claim's rows, having written the claim
and the usage counters, waits on `payouts`; that backend is then terminated.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import date

import httpx
import pytest
from sqlalchemy import func, select, text

from app.audit.models import AuditEvent
from app.claims.models import Claim, ClaimDecision, ClaimDocument
from app.core.policy import Role
from app.coverage.models import BenefitUsageRecord, EventUsageRecord, PeriodUsage
from app.idempotency.models import COMPLETED, IdempotencyRecord
from app.payouts.models import Payout
from tests.support.claims import NOW, claim
from tests.support.processes import (
    environment,
    free_port,
    running,
    start,
    wait_for,
    wait_until_serving,
)
from tests.support.seeding import covered_member
from tests.support.service import bearer

pytestmark = pytest.mark.only_backend("postgresql")

CONDOLENCE_FEN = 50_000


@pytest.fixture
async def server(settings, db):
    """One API process on the test database, with the clock at NOW."""
    env = environment(settings) | {
        "MUTUALAID_CLOCK": NOW.isoformat(),
        "MUTUALAID_DB_POOL_SIZE": "4",
    }
    port = free_port()
    process = start(["serve", "--port", str(port)], env)
    with running(process):
        url = f"http://127.0.0.1:{port}"
        await wait_until_serving(url)
        yield url


@pytest.fixture
async def member(db, runtime):
    return (await covered_member(db, runtime, number=515151, starts_on=date(2026, 1, 1))).member_id


async def _backend_waiting_on_payouts(db) -> int | None:
    """The pid of the server's backend that waits for the lock on `payouts`, if any."""
    async with db.reader() as session:
        return await session.scalar(
            text(
                "SELECT pid FROM pg_locks"
                " WHERE NOT granted AND relation = 'payouts'::regclass"
                " AND pid <> pg_backend_pid()"
            )
        )


async def _tables_written_by(db, pid: int) -> set[str]:
    """The tables the backend has written in its open transaction (it holds their
    ROW EXCLUSIVE lock)."""
    async with db.reader() as session:
        rows = await session.scalars(
            text(
                "SELECT c.relname FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
                " WHERE l.pid = :pid AND l.granted AND l.mode = 'RowExclusiveLock'"
                " AND c.relkind = 'r'"
            ),
            {"pid": pid},
        )
        return set(rows)


async def _counts(db) -> dict[str, int]:
    async with db.reader() as session:
        return {
            model.__tablename__: await session.scalar(select(func.count()).select_from(model))
            for model in (
                Claim,
                ClaimDocument,
                ClaimDecision,
                Payout,
                PeriodUsage,
                BenefitUsageRecord,
                EventUsageRecord,
                IdempotencyRecord,
            )
        } | {
            "claim audit events": await session.scalar(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.entity == "claim")
            )
        }


async def test_a_claim_whose_connection_dies_is_stored_once_on_retry(server, member, api_key, db):
    citizen = bearer(await api_key(Role.CITIZEN_APP, None, "app"))
    headers = citizen | {"Idempotency-Key": f"claim-{uuid.uuid4()}"}
    body = claim(member, "accident_condolence", "accident", date(2026, 11, 2), "fall-1")
    nothing = await _counts(db)
    assert set(nothing.values()) == {0}

    async with httpx.AsyncClient(base_url=server, timeout=60) as http:
        async with db.engine.connect() as blocker:
            await blocker.execute(text("LOCK TABLE payouts IN ACCESS EXCLUSIVE MODE"))
            filing = asyncio.create_task(http.post("/v1/claims", json=body, headers=headers))
            try:
                pid = await wait_for(lambda: _backend_waiting_on_payouts(db), within=30)
                # The kill lands part-way: the statement that writes the claim's rows has
                # written the claim and its usage and waits on `payouts`; nothing is committed.
                written = await _tables_written_by(db, pid)
                assert {"claims", "claim_usage_periods", "claim_usage_benefits"} <= written
                async with db.reader() as session:
                    killed = await session.scalar(
                        text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}
                    )
                assert killed is True
            finally:
                await blocker.rollback()  # release the lock
            first = await asyncio.wait_for(filing, timeout=30)

        assert first.status_code == 503, first.text
        assert first.headers["content-type"].startswith("application/problem+json")
        assert first.json()["code"] == "database_unavailable"
        assert "Retry-After" in first.headers
        for internal in ("asyncpg", "sqlalchemy", "INSERT", "payouts", "terminat"):
            assert internal.lower() not in first.text.lower()
        # Nothing of the claim was kept, and the key is free again (not stuck "in flight").
        assert await _counts(db) == nothing

        second = await http.post("/v1/claims", json=body, headers=headers)
        assert second.status_code == 201, second.text
        assert second.headers.get("Idempotent-Replayed") is None
        filed = second.json()
        assert filed["status"] == "approved"
        assert filed["decision"]["payable_fen"] == CONDOLENCE_FEN

        third = await http.post("/v1/claims", json=body, headers=headers)
        assert third.status_code == 201, third.text
        assert third.headers["Idempotent-Replayed"] == "true"
        assert third.json() == filed

        coverage = await http.get(f"/v1/members/{member}/coverage", headers=citizen)
        assert coverage.status_code == 200, coverage.text
        [period] = [p for p in coverage.json()["periods"] if p["status"] == "active"]
        [condolence] = [b for b in period["benefits"] if b["benefit"] == "accident_condolence"]
        assert condolence["used_fen"] == CONDOLENCE_FEN

    counts = await _counts(db)
    assert counts["claims"] == 1
    assert counts["payouts"] == 1
    assert counts["claim_decisions"] == 1
    assert counts["claim_usage_periods"] == 1
    assert counts["idempotency_keys"] == 1
    async with db.reader() as session:
        assert (await session.scalar(select(Claim.id))) == uuid.UUID(filed["id"])
        assert await session.scalar(select(Payout.amount_fen)) == CONDOLENCE_FEN
        assert await session.scalar(select(PeriodUsage.total_paid_fen)) == CONDOLENCE_FEN
        assert await session.scalar(select(PeriodUsage.decisions)) == 1
        assert await session.scalar(select(BenefitUsageRecord.paid_fen)) == CONDOLENCE_FEN
        assert await session.scalar(select(IdempotencyRecord.state)) == COMPLETED
