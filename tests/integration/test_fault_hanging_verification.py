"""A platform whose verification URL accepts the TCP connection and never answers, against real
`mutualaid serve` and `mutualaid worker` processes on PostgreSQL.

The in-process tests cover a platform that answers late (tests/enrolment, tests/platforms) and
one whose port is closed (tests/batches). Here the server hangs for as long as the test runs:
the individual application still comes back, `pending_review` (the platform cannot verify
automatically, for an examiner to decide), after the configured attempts, and holds no
database transaction while it waits; a union batch naming that platform still finishes, its
rows `rejected` with `platform_unavailable` (send them again later) and the others decided as
usual.
"""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from sqlalchemy import func, select, text

from app.batches.models import EnrolmentBatch
from app.core.policy import Role
from app.coverage.models import CoveragePeriodRecord
from app.enrolment.models import Enrolment
from app.idempotency.models import COMPLETED, IdempotencyRecord
from app.jobs.models import Job, JobStatus
from app.members.models import Member
from app.payments.models import PaymentOrder
from app.platforms.schemas import PlatformIn
from app.platforms.service import add_platform
from app.platforms.simulator import synthetic_workers
from tests.support.enrolment import SLOW, application
from tests.support.hanging import hanging_server
from tests.support.processes import (
    environment,
    free_port,
    running,
    start,
    wait_for,
    wait_until_serving,
)
from tests.support.service import bearer

pytestmark = pytest.mark.only_backend("postgresql")

ATTEMPTS = 2
VERIFICATION = {
    "MUTUALAID_PLATFORM_TIMEOUT_SECONDS": "0.5",
    "MUTUALAID_PLATFORM_ATTEMPTS": str(ATTEMPTS),
    "MUTUALAID_PLATFORM_BULK_TIMEOUT_SECONDS": "1",
}
PLAN = "shanghai-new-employment-e"
# Hangs are caught, not timed: far above attempts x timeout.
HANG = 30


@pytest.fixture
def hang():
    with hanging_server() as server:
        yield server


@pytest.fixture
async def server(settings, db):
    """One API process on the test database with short verification timeouts."""
    env = environment(settings) | VERIFICATION
    port = free_port()
    process = start(["serve", "--port", str(port)], env)
    with running(process):
        url = f"http://127.0.0.1:{port}"
        await wait_until_serving(url)
        yield url


async def add_platforms(db, runtime, *platforms: PlatformIn) -> None:
    async with db.writer() as session:
        for platform in platforms:
            await add_platform(session, runtime.cipher, platform, None)
        await session.commit()


def platform(code: str, verify_url: str, bulk_verify_url: str | None = None) -> PlatformIn:
    return PlatformIn(
        code=code,
        name=code,
        work_types=["food_delivery"],
        verify_url=verify_url,
        bulk_verify_url=bulk_verify_url,
    )


async def _open_transactions(db) -> int:
    """Backends of the test database (other than this one) inside a transaction."""
    async with db.reader() as session:
        count = await session.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND backend_type = 'client backend' AND xact_start IS NOT NULL"
            )
        )
    return int(count or 0)


async def _count(db, model, *where) -> int:
    async with db.reader() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)))


async def test_an_application_to_a_hanging_platform_comes_back_pending_review(
    server, hang, db, runtime, api_key
):
    await add_platforms(db, runtime, platform("hang-delivery", f"{hang.url}/verify"))
    citizen = bearer(await api_key(Role.CITIZEN_APP, None, "app"))
    headers = citizen | {"Idempotency-Key": f"apply-{uuid.uuid4()}"}
    body = application(SLOW, "rider-hang", platform_code="hang-delivery")

    async with httpx.AsyncClient(base_url=server, timeout=HANG) as http:
        applying = asyncio.create_task(http.post("/v1/enrolments", json=body, headers=headers))

        async def asked() -> bool:
            return hang.requests("/verify") >= 1

        await wait_for(asked, within=HANG)
        # While the platform hangs the service answers, and the request holds no transaction
        # (no connection, no lock) open on the database.
        assert (await http.get("/healthz")).status_code == 200
        assert await _open_transactions(db) == 0
        response = await asyncio.wait_for(applying, timeout=HANG)

        assert response.status_code == 201, response.text
        applied = response.json()
        assert applied["status"] == "pending_review"
        assert applied["checks"] == [
            {"code": "eligibility", "passed": True, "detail": None},
            {
                "code": "platform_work",
                "passed": False,
                "detail": "platform could not verify: timed out",
            },
        ]
        assert hang.requests("/verify") == ATTEMPTS  # bounded retries, then given up

        shown = await http.get(f"/v1/enrolments/{applied['id']}", headers=citizen)
        assert shown.status_code == 200, shown.text
        assert shown.json()["status"] == "pending_review"

        # The same key replays the answer without asking the platform again.
        again = await asyncio.wait_for(
            http.post("/v1/enrolments", json=body, headers=headers), timeout=HANG
        )
        assert again.status_code == 201, again.text
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.json() == applied
        assert hang.requests("/verify") == ATTEMPTS

    assert await _count(db, Enrolment) == 1
    assert await _count(db, Enrolment, Enrolment.status == "pending_review") == 1
    assert await _count(db, Member) == 1
    assert await _count(db, PaymentOrder) == 0
    assert await _count(db, CoveragePeriodRecord) == 0
    assert await _count(db, IdempotencyRecord, IdempotencyRecord.state == COMPLETED) == 1
    assert await _count(db, IdempotencyRecord) == 1


async def test_a_batch_naming_a_hanging_platform_finishes_with_every_row_decided(
    settings, server, hang, db, runtime, api_key
):
    env = environment(settings) | VERIFICATION
    sim_port = free_port()
    simulator = start(["platform-sim", "--port", str(sim_port), "--synthetic", "2"], env)
    with running(simulator):
        await wait_until_up(f"http://127.0.0.1:{sim_port}/docs")
        sim = f"http://127.0.0.1:{sim_port}"
        await add_platforms(
            db,
            runtime,
            platform("sim", f"{sim}/verify", f"{sim}/verify/bulk"),
            # One platform asked one worker at a time, one asked for the chunk in one call.
            platform("hang-delivery", f"{hang.url}/verify"),
            platform("hang-bulk", f"{hang.url}/verify", f"{hang.url}/verify/bulk"),
        )
        people = synthetic_workers(7)
        platforms = ["sim", "sim", "hang-delivery", "hang-delivery", "hang-delivery"]
        platforms += ["hang-bulk", "hang-bulk"]
        rows = [
            {
                "ref": f"R{i}",
                "id_number": person["id_number"],
                "name": person["name"],
                "phone": f"139{i:08d}",
                "platform_code": code,
                "platform_worker_id": person["platform_worker_id"],
                "work_type": "food_delivery",
                "union_member_number": f"PD{i}",
            }
            for i, (person, code) in enumerate(zip(people, platforms, strict=True))
        ]
        union = bearer(await api_key(Role.UNION, "pudong"))
        async with httpx.AsyncClient(base_url=server, timeout=HANG) as http:
            created = await http.post(
                "/v1/enrolment-batches",
                json={"plan_code": PLAN, "rows": rows},
                headers=union | {"Idempotency-Key": f"batch-{uuid.uuid4()}"},
            )
            assert created.status_code == 202, created.text
            batch_id = created.json()["id"]

            worker = start(["worker", "--poll-seconds", "0.05", "--lease-seconds", "5"], env)
            with running(worker):
                await wait_for(lambda: _finished(db, batch_id), within=HANG, step=0.1)

            shown = await http.get(f"/v1/enrolment-batches/{batch_id}", headers=union)
            page = await http.get(
                f"/v1/enrolment-batches/{batch_id}/rows", params={"limit": 100}, headers=union
            )

    assert shown.status_code == 200, shown.text
    batch = shown.json()
    assert (batch["status"], batch["total"], batch["processed"]) == ("done", 7, 7)
    assert (batch["accepted"], batch["rejected"], batch["duplicate"]) == (2, 5, 0)
    assert batch["invoice"]["amount_fen"] == 2 * 7200
    assert page.status_code == 200, page.text
    assert [(r["ref"], r["outcome"], r["codes"]) for r in page.json()["rows"]] == [
        ("R0", "accepted", []),
        ("R1", "accepted", []),
        *((f"R{i}", "rejected", ["platform_unavailable"]) for i in range(2, 7)),
    ]
    # The platform was asked, within bounds, and is hanging still: it never answered.
    assert hang.requests("/verify") == 3 * ATTEMPTS
    assert hang.requests("/verify/bulk") == ATTEMPTS
    assert await _count(db, Member) == 2
    assert await _count(db, Enrolment) == 2
    assert await _count(db, Job, Job.status != JobStatus.DONE.value) == 0


async def wait_until_up(url: str) -> None:
    async def answers() -> bool:
        try:
            async with httpx.AsyncClient() as http:
                return (await http.get(url, timeout=1)).status_code == 200
        except httpx.HTTPError:
            return False

    await wait_for(answers, within=HANG, step=0.1)


async def _finished(db, batch_id: str) -> bool:
    """The batch is done and the worker has recorded its jobs as done."""
    async with db.reader() as session:
        batch = await session.get(EnrolmentBatch, uuid.UUID(batch_id))
        unfinished = await session.scalar(
            select(func.count()).select_from(Job).where(Job.status != JobStatus.DONE.value)
        )
    return batch is not None and batch.status in ("done", "failed") and unfinished == 0
