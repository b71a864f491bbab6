"""One chunk of a batch, start to finish: the job handler the workers run, stage by stage.

1. Rows repeated earlier in the file were marked at upload: `duplicate`, or
   `platform_worker_taken` for a platform account already used by an earlier row.
2. Each row is screened on its own values and the rules core's eligibility (age on the batch's
   application date, city, work type, known platform).
3. The platforms verify the rest, in bulk where they can, outside any write transaction,
   within the chunk's time budget: rows not answered by then move to a new chunk with its own
   job (`app.batches.deferral`) and this run writes the others.
4. One write transaction: the chunk is claimed (a chunk done by another worker is left alone),
   and only then is what the service holds about the verified rows' people read: a person
   already holding a share is `duplicate`, a recorded death `member_deceased`, a platform
   account linked to another member `platform_worker_taken` (`app.batches.existing`). Members,
   enrolments, the rows' outcomes and the batch counters are written together. The chunk that
   completes the batch issues the union's invoice in the same transaction.

Nothing about a person already on record is answered before the platform has verified the
row: a row for an enrolled person whose platform account cannot be verified is answered
exactly like a row for nobody, so a union cannot use a batch to ask whether any ID number is
enrolled.

A concurrent application for the same person (another batch, the government app) hits a unique
key; the chunk is then simply written again, and that person now counts as already enrolled.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from app import plans
from app.audit.service import Change, record
from app.batches.deferral import Split, defer
from app.batches.models import BatchChunk, BatchStatus, EnrolmentBatch, RowOutcome
from app.batches.outcomes import RowResult
from app.batches.queueing import CHUNK_JOB as CHUNK_JOB  # the kind, beside its handler
from app.batches.screening import Candidate, passed, screen
from app.batches.upload import ChunkItem, open_chunk
from app.batches.verifying import verify
from app.batches.writing import ChunkWork, seal, write_chunk
from app.core.clock import utc_now
from app.core.runtime import Runtime
from app.enrolment.models import OPEN_STATUSES, Enrolment
from app.enrolment.shares import expire_applications
from app.jobs.models import Job
from app.jobs.worker import Heartbeat
from app.platforms.models import Platform
from app.rules.plan import Plan

_WRITE_ATTEMPTS = 3
logger = logging.getLogger(__name__)


async def run_chunk_job(runtime: Runtime, job: Job, heartbeat: Heartbeat) -> None:
    batch_id = uuid.UUID(job.payload["batch_id"])
    try:
        await process_chunk(runtime, batch_id, int(job.payload["chunk_no"]), heartbeat)
    except Exception:
        if job.attempts >= job.max_attempts:
            await mark_failed(runtime, batch_id)
        raise


@dataclass(frozen=True)
class _Chunk:
    batch: EnrolmentBatch
    plan: Plan
    items: list[ChunkItem]
    enabled: dict[str, Platform]
    # The enabled platforms the upload screened the rows under (None: it kept no results).
    screened_under: dict[str, list[str]] | None


async def process_chunk(
    runtime: Runtime, batch_id: uuid.UUID, chunk_no: int, heartbeat: Heartbeat | None = None
) -> None:
    chunk = await _read(runtime, batch_id, chunk_no)
    if chunk is None:
        return
    batch, plan = chunk.batch, chunk.plan
    if batch.status == BatchStatus.QUEUED.value:
        await _mark_running(runtime, batch_id)
    results, candidates = _screen(chunk)
    verdicts = await verify(runtime, plan, chunk.enabled, candidates)
    results += verdicts.refused
    if heartbeat is not None and not await heartbeat():
        return  # the job was taken over while the platforms answered: the new owner writes
    if verdicts.deferred:
        later = {c.row_number for c in verdicts.deferred}
        if not await defer(runtime, Split(batch_id, chunk_no, chunk.items, later)):
            return
    sealed = [seal(runtime, c) for c in verdicts.verified]
    work = ChunkWork(batch, chunk_no, plan, runtime.clock.now(), sealed, results)
    await _write(runtime, work)


async def _read(runtime: Runtime, batch_id: uuid.UUID, chunk_no: int) -> _Chunk | None:
    """The chunk's rows and what judging them needs; None when there is nothing left to do."""
    async with runtime.db.reader() as session:
        batch = await session.get(EnrolmentBatch, batch_id)
        chunk = await session.get(BatchChunk, (batch_id, chunk_no))
        if batch is None or chunk is None or chunk.rows_cipher is None:
            return None  # done already (the worker that did it died before marking its job done)
        if batch.status == BatchStatus.FAILED.value:
            return None
        enabled = (await session.scalars(select(Platform).where(Platform.enabled))).all()
        read = open_chunk(runtime.cipher, str(batch_id), chunk_no, chunk.rows_cipher)
    plan = plans.of_record(batch.plan_code, batch.plan_version)
    return _Chunk(batch, plan, read.items, {p.code: p for p in enabled}, read.platforms)


def _screen(chunk: _Chunk) -> tuple[list[RowResult], list[Candidate]]:
    """Repeats within the file, then each row on its own values: the results settled, and the
    candidates left."""
    results: list[RowResult] = []
    candidates: list[Candidate] = []
    work_types = {code: list(p.work_types) for code, p in chunk.enabled.items()}
    # The upload screened each row under the same plan and date: its result stands while the
    # enabled platforms are the same.
    reuse = chunk.screened_under == work_types
    for item in chunk.items:
        number, ref = item.number, item.row.get("ref")
        if item.same_person_as:
            results.append(
                RowResult(
                    number,
                    ref,
                    RowOutcome.DUPLICATE,
                    ["duplicate_in_file"],
                    duplicate_of_row=item.same_person_as,
                )
            )
        elif item.same_account_as:
            results.append(RowResult.rejected(number, ref, ["platform_worker_taken"]))
        elif reuse and item.screened == []:
            candidates.append(passed(number, item.row))
        elif reuse and item.screened:
            results.append(RowResult.rejected(number, ref, item.screened))
        else:
            screened = screen(chunk.plan, work_types, number, item.row, chunk.batch.applied_on)
            if isinstance(screened, list):
                results.append(RowResult.rejected(number, ref, screened))
            else:
                candidates.append(screened)
    return results, candidates


async def _write(runtime: Runtime, work: ChunkWork) -> None:
    for attempt in range(1, _WRITE_ATTEMPTS + 1):
        try:
            await write_chunk(runtime, work)
            return
        except DBAPIError as exc:
            if not (isinstance(exc, IntegrityError) or _retryable(exc)):
                raise
            # Someone enrolled one of these people meanwhile (or PostgreSQL chose this
            # transaction as a deadlock victim): the next pass sees them.
            logger.info(
                "batch chunk met a concurrent enrolment; writing again",
                extra={
                    "batch_id": str(work.batch.id),
                    "chunk_no": work.chunk_no,
                    "attempt": attempt,
                },
            )
    raise RuntimeError("batch chunk kept meeting concurrent enrolments")


def _retryable(exc: DBAPIError) -> bool:
    """PostgreSQL's deadlock and serialisation failures: the transaction may simply run again."""
    return getattr(exc.orig, "sqlstate", None) in {"40P01", "40001"}


async def _mark_running(runtime: Runtime, batch_id: uuid.UUID) -> None:
    async with runtime.db.writer() as session:
        await session.execute(
            update(EnrolmentBatch)
            .where(EnrolmentBatch.id == batch_id, EnrolmentBatch.status == BatchStatus.QUEUED.value)
            .values(status=BatchStatus.RUNNING.value, started_at=utc_now())
        )
        await session.commit()


async def mark_failed(runtime: Runtime, batch_id: uuid.UUID) -> None:
    """A chunk gave up after its last attempt: the batch cannot complete, so no invoice will
    come. Its open applications are released (or those people could not enrol for a month),
    the rest of the upload is erased, and the remaining chunks stop. Outcomes stay readable."""
    async with runtime.db.writer() as session:
        batch = await session.get(EnrolmentBatch, batch_id, with_for_update=True)
        if batch is None or batch.status in (BatchStatus.DONE.value, BatchStatus.FAILED.value):
            return
        batch.status = BatchStatus.FAILED.value
        batch.finished_at = utc_now()
        open_ids = (
            await session.scalars(
                select(Enrolment.id).where(
                    Enrolment.batch_id == batch_id, Enrolment.status.in_(OPEN_STATUSES)
                )
            )
        ).all()
        released = await expire_applications(
            session, list(open_ids), None, {"batch_id": str(batch_id), "reason": "batch_failed"}
        )
        await session.execute(
            update(BatchChunk).where(BatchChunk.batch_id == batch_id).values(rows_cipher=None)
        )
        record(
            session,
            Change(
                entity="enrolment_batch",
                entity_id=batch_id,
                action="failed",
                client_id=None,
                to_status=BatchStatus.FAILED.value,
                details={"processed": batch.processed, "applications_released": len(released)},
            ),
        )
        await session.commit()
