"""Upkeep the service owns: what has expired is deleted in small steps, finished jobs are
forgotten after their retention (failed ones kept), the churning tables are vacuumed sooner, and
`/metrics` shows each table's dead rows so the drift is seen before users feel it."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text, update

from app.core.clock import utc_now
from app.core.purging import delete_in_steps
from app.handlers import PERIODIC_TASKS, purge_done_jobs
from app.jobs import queue
from app.jobs.models import Job, JobStatus
from tests.support.metrics import scrape


async def jobs_with(db, statuses_and_ages):
    ids = []
    async with db.writer() as session:
        for status, days_ago in statuses_and_ages:
            job = queue.enqueue(session, "upkeep.test", {})
            await session.flush()
            await session.execute(
                update(Job)
                .where(Job.id == job.id)
                .values(status=status, finished_at=utc_now() - timedelta(days=days_ago))
            )
            ids.append(job.id)
        await session.commit()
    return ids


async def remaining(db):
    async with db.reader() as session:
        return set(await session.scalars(select(Job.id)))


async def test_done_jobs_past_their_retention_go_and_failed_ones_stay(db, runtime):
    old_done, recent_done, old_failed = await jobs_with(
        db, [(JobStatus.DONE.value, 8), (JobStatus.DONE.value, 1), (JobStatus.FAILED.value, 30)]
    )

    purged = await purge_done_jobs(runtime)  # the default retention: 7 days

    assert purged == 1
    assert await remaining(db) == {recent_done, old_failed}
    assert old_done not in await remaining(db)
    assert purge_done_jobs in [task.run for task in PERIODIC_TASKS]


async def test_a_purge_deletes_in_steps_until_nothing_matches(db):
    await jobs_with(db, [(JobStatus.DONE.value, 30)] * 5 + [(JobStatus.QUEUED.value, 0)])

    deleted = await delete_in_steps(db, Job, Job.status == JobStatus.DONE.value, step=2)

    assert deleted == 5
    async with db.reader() as session:
        assert await session.scalar(select(func.count()).select_from(Job)) == 1


@pytest.mark.only_backend("postgresql")
async def test_metrics_show_each_tables_dead_rows_and_the_churning_tables_vacuum_sooner(client, db):
    ids = await jobs_with(db, [(JobStatus.DONE.value, 30)] * 50)
    await delete_in_steps(db, Job, Job.id.in_(ids))

    # PostgreSQL's statistics reach other sessions within a second or so.
    for _ in range(50):
        samples = await scrape(client)
        if samples.get(("mutualaid_table_dead_rows", frozenset({("table", "jobs")})), 0) >= 50:
            break
        await asyncio.sleep(0.2)

    dead = samples[("mutualaid_table_dead_rows", frozenset({("table", "jobs")}))]
    ratio = samples[("mutualaid_table_dead_ratio", frozenset({("table", "jobs")}))]
    assert dead >= 50
    assert 0 < ratio <= 1
    assert ("mutualaid_table_live_rows", frozenset({("table", "members")})) in samples
    assert samples[("mutualaid_database_autovacuum", frozenset())] in {0.0, 1.0}
    async with db.reader() as session:
        options = await session.scalar(
            text("SELECT reloptions FROM pg_class WHERE relname = 'idempotency_keys'")
        )
    assert "autovacuum_vacuum_scale_factor=0.01" in options
