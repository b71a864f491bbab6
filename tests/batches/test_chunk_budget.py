"""A chunk's time budget, on both databases: once it is spent no platform call starts, the rows
not yet answered move to a new chunk with its own job, and the worker is free. Whatever happens
in between (a second worker on the same chunk, a worker dying after the move), every row ends
with exactly one outcome, and the batch is done with its invoice for every row accepted."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from dataclasses import replace
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select

from app.batches import chunks
from app.batches.chunks import CHUNK_JOB, process_chunk
from app.batches.models import BatchChunk, BatchRow
from app.enrolment.models import Enrolment
from app.jobs.models import Job, JobStatus
from app.platforms.schemas import PlatformIn
from app.platforms.service import add_platform
from tests.support.batches import RIDERS, drain, row, submit
from tests.support.enrolment import NOW

ROWS = 20
# Each answer takes this long; the budget is spent before the first ones come back, so a run
# decides only the rows it asked at once (eight) and leaves the rest for later.
ANSWER_SECONDS = 0.2
BUDGET_SECONDS = 0.05
PREMIUM_FEN = 7200


class Trickle:
    """A platform answering every worker as active, each answer after `ANSWER_SECONDS`."""

    def __init__(self) -> None:
        self.asked: Counter[str] = Counter()

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        asked = json.loads(request.content)
        self.asked[asked["platform_worker_id"]] += 1
        await asyncio.sleep(ANSWER_SECONDS)
        return httpx.Response(
            200,
            json={
                "registered": True,
                "city": "shanghai",
                "work_type": "food_delivery",
                "last_order_at": (NOW - timedelta(hours=1)).isoformat(),
                "orders_last_7_days": 20,
            },
        )


@pytest.fixture
async def trickle(app, db):
    platform = Trickle()
    runtime = app.state.runtime
    async with db.writer() as session:
        await add_platform(
            session,
            runtime.cipher,
            PlatformIn(
                code="trickle",
                name="trickle",
                work_types=["food_delivery"],
                verify_url="http://trickle.test/verify",
            ),
            None,
        )
        await session.commit()
    await runtime.http.aclose()
    app.state.runtime = replace(
        runtime,
        settings=runtime.settings.model_copy(update={"batch_chunk_budget_seconds": BUDGET_SECONDS}),
        http=httpx.AsyncClient(mounts={"http://trickle.test": httpx.MockTransport(platform)}),
    )
    return platform


async def submitted(http, union) -> uuid.UUID:
    rows = [
        row(f"r{i}", number, f"t-{i}", platform_code="trickle")
        for i, number in enumerate(RIDERS[:ROWS])
    ]
    created = await submit(http, union, rows)
    assert created.status_code == 202, created.text
    return uuid.UUID(created.json()["id"])


async def every_row_once(http, union, db, batch_id: uuid.UUID) -> None:
    shown = (await http.get(f"/v1/enrolment-batches/{batch_id}", headers=union)).json()
    assert (shown["status"], shown["processed"], shown["accepted"]) == ("done", ROWS, ROWS)
    assert shown["invoice"]["amount_fen"] == ROWS * PREMIUM_FEN
    async with db.reader() as session:
        numbers = (
            await session.scalars(
                select(BatchRow.row_number)
                .where(BatchRow.batch_id == batch_id)
                .order_by(BatchRow.row_number)
            )
        ).all()
        enrolments = await session.scalar(
            select(func.count()).select_from(Enrolment).where(Enrolment.batch_id == batch_id)
        )
        failed = await session.scalar(
            select(func.count()).select_from(Job).where(Job.status == JobStatus.FAILED.value)
        )
    assert numbers == list(range(1, ROWS + 1))
    assert (enrolments, failed) == (ROWS, 0)


async def chunks_of(db, batch_id: uuid.UUID) -> list[tuple[int, int, bool]]:
    """(chunk number, rows, processed) of each chunk of the batch."""
    async with db.reader() as session:
        found = await session.execute(
            select(BatchChunk.chunk_no, BatchChunk.row_count, BatchChunk.processed_at)
            .where(BatchChunk.batch_id == batch_id)
            .order_by(BatchChunk.chunk_no)
        )
        return [(no, count, done is not None) for no, count, done in found]


async def test_rows_not_answered_within_the_budget_are_left_to_a_later_job(
    http, union, app, db, trickle
):
    batch_id = await submitted(http, union)

    await process_chunk(app.state.runtime, batch_id, 0)

    # The worker is free: part of the chunk is written, the rest waits in a new chunk and job.
    [(_, written, done), (second, left, waiting)] = await chunks_of(db, batch_id)
    assert (second, done, waiting) == (1, True, False)
    assert 0 < written < ROWS
    assert written + left == ROWS
    async with db.reader() as session:
        queued = (await session.scalars(select(Job.payload).where(Job.kind == CHUNK_JOB))).all()
    assert {"batch_id": str(batch_id), "chunk_no": 1} in queued

    await drain(app)

    await every_row_once(http, union, db, batch_id)
    assert len(await chunks_of(db, batch_id)) > 2  # it took several turns
    # No row was asked about twice.
    assert sorted(trickle.asked.values()) == [1] * ROWS


async def test_two_workers_on_one_chunk_write_each_row_once(http, union, app, db, trickle):
    """A worker whose lease ran out while it waited on the platform, beside the one that took
    its chunk over: one moves the unanswered rows, the other finds the chunk changed."""
    batch_id = await submitted(http, union)

    await asyncio.gather(*(process_chunk(app.state.runtime, batch_id, 0) for _ in range(2)))
    await drain(app)

    await every_row_once(http, union, db, batch_id)


async def test_a_worker_dying_after_the_move_loses_and_repeats_nothing(
    http, union, app, db, trickle, monkeypatch
):
    batch_id = await submitted(http, union)

    async def dies(runtime, work) -> None:
        raise ConnectionError("the worker's process was killed")

    monkeypatch.setattr(chunks, "_write", dies)
    with pytest.raises(ConnectionError):
        await process_chunk(app.state.runtime, batch_id, 0)
    monkeypatch.undo()
    [(first, kept, done), (second, _, waiting)] = await chunks_of(db, batch_id)
    assert (first, done, second, waiting) == (0, False, 1, False)
    assert kept < ROWS

    await drain(app)

    await every_row_once(http, union, db, batch_id)
