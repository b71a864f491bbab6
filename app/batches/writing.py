"""One write transaction per chunk: its members, enrolments, rows' outcomes and the batch counters.

The chunk is claimed first by a conditional UPDATE (a chunk another worker wrote is left alone),
the existing-member checks are made under it (only for rows the platforms verified), and
everything the chunk writes commits together, through the writer every way in shares
(`app.enrolment.writer`). The chunk that completes the batch issues the union's invoice in the
same transaction.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.batches import invoices
from app.batches.existing import Existing, existing_of
from app.batches.models import BatchChunk, BatchRow, EnrolmentBatch, RowOutcome
from app.batches.outcomes import RowResult
from app.batches.screening import Candidate
from app.core.bulk import insert_rows
from app.core.runtime import Runtime
from app.enrolment import writer
from app.enrolment.models import EnrolmentStatus
from app.enrolment.shares import expire_applications
from app.enrolment.writer import NewApplication, NewMember
from app.members import service as members
from app.members.service import SealedIdentity
from app.rules.plan import Plan

logger = logging.getLogger(__name__)

VERIFIED_CHECKS = [
    {"code": "eligibility", "passed": True, "detail": None},
    {"code": "platform_work", "passed": True, "detail": "bulk"},
]


@dataclass(slots=True)  # not frozen: one is made per row, and frozen ones cost 2-3x to make
class Verified:
    """A candidate whose work the platform verified, its identity sealed before the write
    transaction (encryption takes time; the transaction then holds its locks for the inserts
    only)."""

    candidate: Candidate
    id_hash: str
    identity: SealedIdentity


@dataclass(frozen=True)
class ChunkWork:
    """What a chunk writes: its verified candidates, and the results already settled."""

    batch: EnrolmentBatch
    chunk_no: int
    plan: Plan
    now: datetime
    verified: list[Verified]
    settled: list[RowResult]


def seal(runtime: Runtime, candidate: Candidate) -> Verified:
    identity = members.Identity(candidate.id_number, candidate.name, candidate.phone)
    sealed = members.seal(runtime.cipher, identity)
    return Verified(candidate, sealed.id_number_hash, sealed)


async def write_chunk(runtime: Runtime, work: ChunkWork) -> None:
    batch = work.batch
    async with runtime.db.writer() as session:
        if not await _claim(session, work):
            return  # another worker wrote this chunk
        hashes = {v.candidate.row_number: v.id_hash for v in work.verified}
        candidates = [v.candidate for v in work.verified]
        existing = await existing_of(session, work.plan, candidates, hashes, batch.applied_on)
        results = list(work.settled)
        new_members: list[NewMember] = []
        applications: list[NewApplication] = []
        stale: list[uuid.UUID] = []
        ids = fresh_ids(2 * len(work.verified))
        for verified in work.verified:
            refusal = existing.refusal(verified.candidate, verified.id_hash, batch.union_org_code)
            if refusal is not None:
                results.append(refusal)
                continue
            result, new_member, application = _accept(work, existing, verified, ids)
            results.append(result)
            applications.append(application)
            if new_member is not None:
                new_members.append(new_member)
            else:
                stale += existing.stale_applications(application.member_id)
        await expire_applications(
            session, stale, batch.created_by_client_id, {"batch_id": str(batch.id)}
        )
        await session.flush()
        await writer.write(session, new_members, applications)
        results.sort(key=lambda r: r.row_number)
        await insert_rows(session, BatchRow, [r.row(batch.id) for r in results])
        counts = Counter(r.outcome for r in results)
        await _count(session, work, counts)
        await session.commit()
    logger.info(
        "batch chunk processed",
        extra={
            "batch_id": str(batch.id),
            "chunk_no": work.chunk_no,
            **{outcome.value: n for outcome, n in counts.items()},
        },
    )


async def _claim(session: AsyncSession, work: ChunkWork) -> bool:
    claimed = await session.execute(
        update(BatchChunk)
        .where(
            BatchChunk.batch_id == work.batch.id,
            BatchChunk.chunk_no == work.chunk_no,
            BatchChunk.processed_at.is_(None),
            BatchChunk.rows_cipher.is_not(None),  # erased when the batch failed
            # Rows left for later since this worker read the chunk (app.batches.deferral).
            BatchChunk.row_count == len(work.verified) + len(work.settled),
        )
        .values(processed_at=work.now, rows_cipher=None)
    )
    return bool(claimed.rowcount == 1)  # type: ignore[attr-defined]


def fresh_ids(count: int) -> Iterator[uuid.UUID]:
    """Random (version 4) UUIDs, as `uuid.uuid4` makes them, from one read of the system's
    random source for all of them rather than one each."""
    random = os.urandom(16 * count)
    for start in range(0, len(random), 16):
        yield uuid.UUID(bytes=random[start : start + 16], version=4)


def _accept(
    work: ChunkWork, existing: Existing, verified: Verified, ids: Iterator[uuid.UUID]
) -> tuple[RowResult, NewMember | None, NewApplication]:
    """The row's application, for a new member or an existing one."""
    batch, candidate = work.batch, verified.candidate
    member = existing.members.get(verified.id_hash)
    new_member = None
    if member is None:
        new_member = NewMember(
            next(ids),
            verified.identity,
            consent_at=work.now,
            created_at=work.now,
            union_org_code=batch.union_org_code,
            union_member_number=candidate.union_member_number,
        )
        member_id = new_member.id
        contact = (verified.identity.name_cipher, verified.identity.phone_cipher)
    else:
        member_id = member.id
        # A union's records never rewrite a member: the application carries the member's own
        # contact details, so paying it changes nothing there either.
        contact = (member.name_cipher, member.phone_cipher)
        # Union membership only fills what is missing: a member bound to a union keeps it.
        if member.union_org_code is None:
            member.union_org_code = batch.union_org_code
            member.union_bound_at = work.now
        member.union_member_number = member.union_member_number or candidate.union_member_number
    application = NewApplication(
        id=next(ids),
        member_id=member_id,
        plan_code=work.plan.code,
        plan_version=work.plan.version,
        channel="batch",
        batch_id=batch.id,
        status=EnrolmentStatus.AWAITING_PAYMENT.value,
        platform_code=candidate.platform_code,
        platform_worker_id=candidate.platform_worker_id,
        work_type=candidate.work_type,
        work_city=candidate.work_city,
        applied_on=batch.applied_on,
        checks=VERIFIED_CHECKS,
        name_cipher=contact[0],
        phone_cipher=contact[1],
        created_by_client_id=batch.created_by_client_id,
        created_at=work.now,
    )
    result = RowResult(
        candidate.row_number,
        candidate.ref,
        RowOutcome.ACCEPTED,
        # Another union's (or an individual's) member id is not this union's to see.
        member_id=member_id
        if member is None or member.union_org_code == batch.union_org_code
        else None,
        enrolment_id=application.id,
    )
    return result, new_member, application


async def _count(session: AsyncSession, work: ChunkWork, counts: Counter[RowOutcome]) -> None:
    """Add the chunk's outcomes to the batch in one UPDATE (chunks commit concurrently); the
    chunk that brings `processed` to `total` closes the batch and issues the invoice."""
    batch_id = work.batch.id
    result = await session.execute(
        update(EnrolmentBatch)
        .where(EnrolmentBatch.id == batch_id)
        .values(
            processed=EnrolmentBatch.processed + sum(counts.values()),
            accepted=EnrolmentBatch.accepted + counts[RowOutcome.ACCEPTED],
            rejected=EnrolmentBatch.rejected + counts[RowOutcome.REJECTED],
            duplicate=EnrolmentBatch.duplicate + counts[RowOutcome.DUPLICATE],
        )
        .returning(EnrolmentBatch.processed, EnrolmentBatch.total)
        .execution_options(synchronize_session=False)
    )
    processed, total = result.one()
    if processed == total:
        await invoices.close_batch(session, batch_id, work.plan, work.now)
