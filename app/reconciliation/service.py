"""Reconciliation runs: a bill taken in (uploaded, or fetched from the gateway), matched by a job.

A run is idempotent per day and bill: the same bill again answers the run that exists; a
corrected bill of the same day is a new run.
"""

from __future__ import annotations

import gzip
import hashlib
import uuid
from datetime import date, timedelta

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import utc_now
from app.core.errors import NotFound
from app.core.runtime import Runtime
from app.gateway.client import BillNotReady, GatewayClient, GatewayUnavailable
from app.gateway.contract import BillFormatError, read_bill
from app.jobs import queue
from app.jobs.models import Job
from app.jobs.worker import Heartbeat
from app.reconciliation import ours
from app.reconciliation.matching import Difference, Entry, match
from app.reconciliation.models import Reconciliation, ReconciliationDifference
from app.reconciliation.schemas import DifferenceOut, DifferencePage, ReconciliationOut

RECONCILE_JOB = "reconciliation.run"
INSERT_ROWS = 5000


def out(run: Reconciliation) -> ReconciliationOut:
    return ReconciliationOut(
        id=run.id,
        date=run.business_date,
        status=run.status,
        source=run.source,
        error=run.error,
        bill_lines=run.bill_lines,
        our_entries=run.our_entries,
        matched=run.matched,
        differences=run.differences,
        created_at=run.created_at,
        finished_at=run.finished_at,
    )


async def submit(
    session: AsyncSession, day: date, bill: bytes, source: str, client_id: uuid.UUID | None
) -> tuple[Reconciliation, bool]:
    """The run for this day's bill: the existing one for the same bill, or a new queued one."""
    digest = hashlib.sha256(bill).hexdigest()
    existing = await session.scalar(
        select(Reconciliation).where(
            Reconciliation.business_date == day, Reconciliation.bill_sha256 == digest
        )
    )
    if existing is not None:
        return existing, False
    run = Reconciliation(
        id=uuid.uuid4(),
        business_date=day,
        bill_sha256=digest,
        bill_gzip=gzip.compress(bill, compresslevel=5),
        source=source,
        status="queued",
        created_by_client_id=client_id,
    )
    session.add(run)
    queue.enqueue(session, RECONCILE_JOB, {"reconciliation_id": str(run.id)})
    return run, True


async def run_reconciliation_job(runtime: Runtime, job: Job, heartbeat: Heartbeat) -> None:
    await reconcile(runtime, uuid.UUID(str(job.payload["reconciliation_id"])))


async def reconcile(runtime: Runtime, run_id: uuid.UUID) -> None:
    """Match the run's bill against our records of its day and store the differences."""
    async with runtime.db.writer() as session:
        run = await session.get(Reconciliation, run_id, with_for_update=True)
        if run is None or run.status == "done":
            return
        try:
            lines = read_bill(gzip.decompress(run.bill_gzip))
        except BillFormatError as exc:
            run.status, run.error, run.finished_at = "failed", str(exc)[:200], utc_now()
            await session.commit()
            return
        bill = [Entry(x.kind, x.our_ref, x.amount_fen, 1, x.gateway_ref) for x in lines]
        recorded = await ours.entries_of(session, run.business_date)
        billed_refs = {(e.kind, e.our_ref) for e in bill} - {(e.kind, e.our_ref) for e in recorded}
        held = await ours.not_moved(session, billed_refs)
        differences = match(bill, recorded, held)
        await _store(session, run.id, differences)
        run.bill_lines, run.our_entries = len(bill), len(recorded)
        run.differences = len(differences)
        run.matched = len({(e.kind, e.our_ref) for e in bill}) - sum(
            1 for d in differences if d.bill_fen is not None
        )
        run.status, run.finished_at = "done", utc_now()
        await session.commit()


async def _store(session: AsyncSession, run_id: uuid.UUID, differences: list[Difference]) -> None:
    rows = [
        {
            "id": uuid.uuid4(),
            "reconciliation_id": run_id,
            "position": n,
            "kind": d.kind.value,
            "line_kind": d.line_kind,
            "our_ref": d.our_ref[:64],
            "gateway_ref": d.gateway_ref[:64] if d.gateway_ref else None,
            "bill_fen": d.bill_fen,
            "ours_fen": d.ours_fen,
        }
        for n, d in enumerate(differences)
    ]
    for start in range(0, len(rows), INSERT_ROWS):
        await session.execute(insert(ReconciliationDifference), rows[start : start + INSERT_ROWS])


async def get(session: AsyncSession, run_id: uuid.UUID) -> Reconciliation:
    run = await session.get(Reconciliation, run_id)
    if run is None:
        raise NotFound("reconciliation not found", code="reconciliation_not_found")
    return run


async def lines(
    session: AsyncSession, run_id: uuid.UUID, limit: int, after: int | None
) -> DifferencePage:
    await get(session, run_id)
    query = (
        select(ReconciliationDifference)
        .where(ReconciliationDifference.reconciliation_id == run_id)
        .order_by(ReconciliationDifference.position)
        .limit(limit + 1)
    )
    if after is not None:
        query = query.where(ReconciliationDifference.position > after)
    rows = list((await session.scalars(query)).all())
    more, rows = len(rows) > limit, rows[:limit]
    return DifferencePage(
        items=[
            DifferenceOut(
                kind=r.kind,
                line_kind=r.line_kind,
                our_ref=r.our_ref,
                gateway_ref=r.gateway_ref,
                bill_fen=r.bill_fen,
                ours_fen=r.ours_fen,
            )
            for r in rows
        ],
        next_after=rows[-1].position if more and rows else None,
    )


async def fetch_yesterdays_bill(runtime: Runtime) -> int:
    """The periodic task: once a day's bill can be had from the gateway, reconcile it. Yesterday
    by the service's clock; nothing when no gateway is configured, the day already has a run, or
    the gateway has no bill yet. How many runs it queued (0 or 1)."""
    if not runtime.settings.gateway_url:
        return 0
    day = runtime.clock.today() - timedelta(days=1)
    async with runtime.db.reader() as session:
        known = await session.scalar(
            select(Reconciliation.id).where(Reconciliation.business_date == day).limit(1)
        )
    if known is not None:
        return 0
    try:
        bill = await GatewayClient.from_runtime(runtime).bill(day)
    except (BillNotReady, GatewayUnavailable):
        return 0
    async with runtime.db.writer() as session:
        _, created = await submit(session, day, bill, "gateway", None)
        await session.commit()
    return int(created)
