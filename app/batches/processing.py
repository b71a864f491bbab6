"""One chunk of a batch, start to finish: the job handler the workers run.

1. Rows repeated earlier in the file were marked at upload: `duplicate`, or
   `platform_worker_taken` for a platform account already used by an earlier row.
2. Each row is screened on its own values and the rules core's eligibility (age on the batch's
   application date, city, work type, known platform).
3. People already holding a share (an open application, or cover not yet renewable) are
   `duplicate`; a platform account linked to another member is `platform_worker_taken`.
4. The platforms verify the rest, in bulk where they can, outside any write transaction.
5. One write transaction: the chunk is claimed (a chunk done by another worker is left alone),
   the existing-member checks are made again under it, and members, enrolments, the rows'
   outcomes and the batch counters are written together. The chunk that completes the batch
   issues the union's invoice in the same transaction.

A concurrent application for the same person (another batch, the government app) hits a unique
key; the chunk is then simply written again, and that person now counts as already enrolled.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select, tuple_, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import record
from app.batches import invoices
from app.batches.models import BatchChunk, BatchRow, BatchStatus, EnrolmentBatch, RowOutcome
from app.batches.screening import Candidate, screen
from app.batches.upload import read_chunk
from app.core.clock import utc_now
from app.core.masking import mask_id_number, mask_name, mask_phone
from app.core.runtime import Runtime
from app.coverage.models import CoveragePeriodRecord
from app.enrolment.models import OPEN_STATUSES, Enrolment, EnrolmentStatus
from app.enrolment.service import expire_applications
from app.jobs.models import Job
from app.jobs.worker import Heartbeat
from app.members import service as members
from app.members.models import Member, PlatformWorker
from app.plans import get_plan
from app.platforms import service as platforms
from app.platforms.models import Platform
from app.platforms.verification import (
    Unavailable,
    WorkerToVerify,
    verifier_settings,
    verify_workers,
)
from app.rules.coverage import CoveragePeriod, application_expired, share_blocker
from app.rules.eligibility import check_platform_work
from app.rules.plan import Plan

CHUNK_JOB = "enrolment_batch.chunk"
_WRITE_ATTEMPTS = 3
logger = logging.getLogger(__name__)


@dataclass
class _Outcome:
    row_number: int
    ref: str | None
    outcome: RowOutcome
    codes: list[str]
    duplicate_of_row: int | None = None
    member_id: uuid.UUID | None = None
    enrolment_id: uuid.UUID | None = None


@dataclass
class _Existing:
    """What the database already holds about a chunk's people and platform accounts."""

    members: dict[str, Member] = field(default_factory=dict)  # by ID-number hash
    blocked: set[uuid.UUID] = field(default_factory=set)  # members holding a share
    stale_applications: dict[uuid.UUID, list[uuid.UUID]] = field(default_factory=dict)
    account_owners: dict[tuple[str, str], uuid.UUID] = field(default_factory=dict)

    def refusal(self, candidate: Candidate, id_hash: str, union: str) -> _Outcome | None:
        member = self.members.get(id_hash)
        if member is not None and member.id in self.blocked:
            return _Outcome(
                candidate.row_number,
                candidate.ref,
                RowOutcome.DUPLICATE,
                ["already_enrolled"],
                member_id=member.id if member.union_org_code == union else None,
            )
        owner = self.account_owners.get((candidate.platform_code, candidate.platform_worker_id))
        if owner is not None and (member is None or owner != member.id):
            return _Outcome(
                candidate.row_number, candidate.ref, RowOutcome.REJECTED, ["platform_worker_taken"]
            )
        return None


async def run_chunk_job(runtime: Runtime, job: Job, heartbeat: Heartbeat) -> None:
    batch_id = uuid.UUID(job.payload["batch_id"])
    try:
        await process_chunk(runtime, batch_id, int(job.payload["chunk_no"]), heartbeat)
    except Exception:
        if job.attempts >= job.max_attempts:
            await _mark_failed(runtime, batch_id)
        raise


async def process_chunk(
    runtime: Runtime, batch_id: uuid.UUID, chunk_no: int, heartbeat: Heartbeat | None = None
) -> None:
    cipher = runtime.cipher
    async with runtime.db.reader() as session:
        batch = await session.get(EnrolmentBatch, batch_id)
        chunk = await session.get(BatchChunk, (batch_id, chunk_no))
        if batch is None or chunk is None or chunk.rows_cipher is None:
            return  # done already (the worker that did it died before marking its job done)
        if batch.status == BatchStatus.FAILED.value:
            return
        enabled = (await session.scalars(select(Platform).where(Platform.enabled))).all()
        items = read_chunk(cipher, str(batch_id), chunk_no, chunk.rows_cipher)
    plan = get_plan(batch.plan_code)
    assert plan is not None, "a batch's plan is always shipped"
    if batch.status == BatchStatus.QUEUED.value:
        await _mark_running(runtime, batch_id)

    outcomes: list[_Outcome] = []
    candidates: list[Candidate] = []
    work_types = {p.code: list(p.work_types) for p in enabled}
    for item in items:
        number, ref = item["n"], item["row"].get("ref")
        if item["same_person"]:
            outcomes.append(
                _Outcome(
                    number,
                    ref,
                    RowOutcome.DUPLICATE,
                    ["duplicate_in_file"],
                    duplicate_of_row=item["same_person"],
                )
            )
        elif item["same_account"]:
            outcomes.append(_Outcome(number, ref, RowOutcome.REJECTED, ["platform_worker_taken"]))
        else:
            screened = screen(plan, work_types, item, batch.applied_on)
            if isinstance(screened, list):
                outcomes.append(_Outcome(number, ref, RowOutcome.REJECTED, screened))
            else:
                candidates.append(screened)

    hashes = {c.row_number: members.id_number_hash(cipher, c.id_number) for c in candidates}
    async with runtime.db.reader() as session:
        existing = await _existing(session, plan, candidates, hashes, batch.applied_on)
    to_verify = []
    for candidate in candidates:
        refusal = existing.refusal(candidate, hashes[candidate.row_number], batch.union_org_code)
        if refusal is None:
            to_verify.append(candidate)
        else:
            outcomes.append(refusal)

    answers = await _verify(runtime, {p.code: p for p in enabled}, to_verify)
    now = runtime.clock.now()
    verified = []
    for candidate in to_verify:
        work = answers[(candidate.platform_code, candidate.platform_worker_id)]
        if isinstance(work, Unavailable):
            codes = ["platform_unavailable"]
        else:
            codes = [f.code for f in check_platform_work(plan, work, candidate.work_type, now)]
        if codes:
            outcomes.append(
                _Outcome(candidate.row_number, candidate.ref, RowOutcome.REJECTED, codes)
            )
        else:
            verified.append(candidate)
    if heartbeat is not None and not await heartbeat():
        return  # the job was taken over while the platforms answered: the new owner writes

    sealed = {c.row_number: _seal(runtime, c, hashes[c.row_number]) for c in verified}
    for attempt in range(1, _WRITE_ATTEMPTS + 1):
        try:
            await _write(runtime, batch, chunk_no, plan, verified, sealed, hashes, outcomes, now)
            return
        except DBAPIError as exc:
            if not (isinstance(exc, IntegrityError) or _retryable(exc)):
                raise
            # Someone enrolled one of these people meanwhile (or PostgreSQL chose this
            # transaction as a deadlock victim): the next pass sees them.
            logger.info(
                "batch chunk met a concurrent enrolment; writing again",
                extra={"batch_id": str(batch_id), "chunk_no": chunk_no, "attempt": attempt},
            )
    raise RuntimeError("batch chunk kept meeting concurrent enrolments")


def _retryable(exc: DBAPIError) -> bool:
    """PostgreSQL's deadlock and serialisation failures: the transaction may simply run again."""
    return getattr(exc.orig, "sqlstate", None) in {"40P01", "40001"}


def _seal(runtime: Runtime, candidate: Candidate, id_hash: str) -> dict[str, Any]:
    """The candidate's personal data encrypted, hashed and masked: done before the write
    transaction, which then holds its locks for the inserts only."""
    cipher = runtime.cipher
    phone = members.normalise_phone(candidate.phone)
    return {
        "id_number_hash": id_hash,
        "id_number_cipher": cipher.encrypt(candidate.id_number, context=members.ID_NUMBER),
        "id_number_masked": mask_id_number(candidate.id_number),
        "name_cipher": cipher.encrypt(candidate.name, context=members.NAME),
        "name_masked": mask_name(candidate.name),
        "phone_cipher": cipher.encrypt(phone, context=members.PHONE),
        "phone_hash": cipher.lookup_hash(phone, context=members.PHONE),
        "phone_masked": mask_phone(phone),
    }


async def _existing(
    session: AsyncSession,
    plan: Plan,
    candidates: Iterable[Candidate],
    hashes: dict[int, str],
    today: date,
) -> _Existing:
    candidates = list(candidates)
    found = _Existing()
    if not candidates:
        return found
    rows = await session.scalars(
        select(Member).where(Member.id_number_hash.in_([hashes[c.row_number] for c in candidates]))
    )
    found.members = {m.id_number_hash: m for m in rows}
    member_ids = [m.id for m in found.members.values()]
    open_applications: dict[uuid.UUID, list[tuple[uuid.UUID, date]]] = {}
    periods: dict[uuid.UUID, list[CoveragePeriod]] = {}
    if member_ids:
        for enrolment_id, member_id, applied_on in await session.execute(
            select(Enrolment.id, Enrolment.member_id, Enrolment.applied_on).where(
                Enrolment.member_id.in_(member_ids), Enrolment.status.in_(OPEN_STATUSES)
            )
        ):
            open_applications.setdefault(member_id, []).append((enrolment_id, applied_on))
        for period in await session.scalars(
            select(CoveragePeriodRecord).where(CoveragePeriodRecord.member_id.in_(member_ids))
        ):
            periods.setdefault(period.member_id, []).append(
                CoveragePeriod(period.starts_on, period.ends_on, period.continues_previous)
            )
    for member_id in member_ids:
        applications = open_applications.get(member_id, [])
        applied = [a for _, a in applications]
        if share_blocker(plan, applied, periods.get(member_id, []), today) is not None:
            found.blocked.add(member_id)
        stale = [e for e, a in applications if application_expired(plan, a, today)]
        if stale:
            found.stale_applications[member_id] = stale
    accounts = {(c.platform_code, c.platform_worker_id) for c in candidates}
    for link in await session.scalars(
        select(PlatformWorker).where(
            tuple_(PlatformWorker.platform_code, PlatformWorker.platform_worker_id).in_(accounts)
        )
    ):
        found.account_owners[(link.platform_code, link.platform_worker_id)] = link.member_id
    return found


async def _verify(
    runtime: Runtime, enabled: dict[str, Platform], candidates: list[Candidate]
) -> dict[tuple[str, str], Any]:
    """Each platform asked once for its rows of the chunk (or row by row, a few at a time, when it
    has no bulk verification); platforms are asked at the same time."""
    by_platform: dict[str, list[Candidate]] = {}
    for candidate in candidates:
        by_platform.setdefault(candidate.platform_code, []).append(candidate)
    codes = list(by_platform)

    async def ask(code: str) -> dict[str, Any]:
        endpoint = platforms.endpoint(enabled[code], runtime.cipher)
        workers = [
            WorkerToVerify(c.platform_worker_id, c.id_number, c.name) for c in by_platform[code]
        ]
        settings = verifier_settings(runtime.settings, bulk=endpoint.bulk_verify_url is not None)
        return await verify_workers(runtime.http, endpoint, workers, settings)

    answers = await asyncio.gather(*(ask(code) for code in codes))
    return {
        (code, worker_id): work
        for code, by_worker in zip(codes, answers, strict=True)
        for worker_id, work in by_worker.items()
    }


async def _write(
    runtime: Runtime,
    batch: EnrolmentBatch,
    chunk_no: int,
    plan: Plan,
    verified: list[Candidate],
    sealed: dict[int, dict[str, Any]],
    hashes: dict[int, str],
    settled: list[_Outcome],
    now: datetime,
) -> None:
    async with runtime.db.writer() as session:
        claimed = await session.execute(
            update(BatchChunk)
            .where(
                BatchChunk.batch_id == batch.id,
                BatchChunk.chunk_no == chunk_no,
                BatchChunk.processed_at.is_(None),
                BatchChunk.rows_cipher.is_not(None),  # erased when the batch failed
            )
            .values(processed_at=now, rows_cipher=None)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return  # another worker wrote this chunk
        existing = await _existing(session, plan, verified, hashes, batch.applied_on)
        outcomes = list(settled)
        new_members: list[dict[str, Any]] = []
        enrolments: list[dict[str, Any]] = []
        stale: list[uuid.UUID] = []
        for candidate in verified:
            id_hash = hashes[candidate.row_number]
            refusal = existing.refusal(candidate, id_hash, batch.union_org_code)
            if refusal is not None:
                outcomes.append(refusal)
                continue
            personal = sealed[candidate.row_number]
            contact = (personal["name_cipher"], personal["phone_cipher"])
            member = existing.members.get(id_hash)
            if member is None:
                member_id = uuid.uuid4()
                new_members.append(
                    {
                        **personal,
                        "id": member_id,
                        "union_org_code": batch.union_org_code,
                        "union_member_number": candidate.union_member_number,
                        "sensitive_data_consent_at": now,
                        "created_at": now,
                    }
                )
            else:
                member_id = member.id
                # A union's records never rewrite a member: the application carries the
                # member's own contact details, so paying it changes nothing there either.
                contact = (member.name_cipher, member.phone_cipher)
                # Union membership only fills what is missing.
                member.union_org_code = member.union_org_code or batch.union_org_code
                member.union_member_number = (
                    member.union_member_number or candidate.union_member_number
                )
                stale += existing.stale_applications.get(member_id, [])
            enrolment_id = uuid.uuid4()
            enrolments.append(
                {
                    "id": enrolment_id,
                    "member_id": member_id,
                    "plan_code": plan.code,
                    "plan_version": plan.version,
                    "channel": "batch",
                    "batch_id": batch.id,
                    "status": EnrolmentStatus.AWAITING_PAYMENT.value,
                    "platform_code": candidate.platform_code,
                    "platform_worker_id": candidate.platform_worker_id,
                    "work_type": candidate.work_type,
                    "work_city": candidate.work_city,
                    "applied_on": batch.applied_on,
                    "checks": [
                        {"code": "eligibility", "passed": True, "detail": None},
                        {"code": "platform_work", "passed": True, "detail": "bulk"},
                    ],
                    "name_cipher": contact[0],
                    "phone_cipher": contact[1],
                    "created_by_client_id": batch.created_by_client_id,
                    "created_at": now,
                }
            )
            outcomes.append(
                _Outcome(
                    candidate.row_number,
                    candidate.ref,
                    RowOutcome.ACCEPTED,
                    [],
                    # Another union's (or an individual's) member id is not this union's to see.
                    member_id=member_id
                    if member is None or member.union_org_code == batch.union_org_code
                    else None,
                    enrolment_id=enrolment_id,
                )
            )
        await expire_applications(
            session, stale, batch.created_by_client_id, {"batch_id": str(batch.id)}
        )
        await session.flush()
        if new_members:
            # In one order everywhere, so two chunks inserting the same people cannot deadlock.
            new_members.sort(key=lambda m: m["id_number_hash"])
            await session.execute(insert(Member), new_members)
        if enrolments:
            enrolments.sort(key=lambda e: e["member_id"])
            await session.execute(insert(Enrolment), enrolments)
        outcomes.sort(key=lambda o: o.row_number)
        await session.execute(
            insert(BatchRow),
            [
                {
                    "batch_id": batch.id,
                    "row_number": o.row_number,
                    "ref": o.ref,
                    "outcome": o.outcome.value,
                    "codes": o.codes,
                    "duplicate_of_row": o.duplicate_of_row,
                    "member_id": o.member_id,
                    "enrolment_id": o.enrolment_id,
                }
                for o in outcomes
            ],
        )
        counts = Counter(o.outcome for o in outcomes)
        await _count(session, batch.id, plan, counts, now)
        await session.commit()
    logger.info(
        "batch chunk processed",
        extra={
            "batch_id": str(batch.id),
            "chunk_no": chunk_no,
            **{outcome.value: n for outcome, n in counts.items()},
        },
    )


async def _count(
    session: AsyncSession,
    batch_id: uuid.UUID,
    plan: Plan,
    counts: Counter[RowOutcome],
    now: datetime,
) -> None:
    """Add the chunk's outcomes to the batch in one UPDATE (chunks commit concurrently); the
    chunk that brings `processed` to `total` closes the batch and issues the invoice."""
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
        await invoices.close_batch(session, batch_id, plan, now)


async def _mark_running(runtime: Runtime, batch_id: uuid.UUID) -> None:
    async with runtime.db.writer() as session:
        await session.execute(
            update(EnrolmentBatch)
            .where(EnrolmentBatch.id == batch_id, EnrolmentBatch.status == BatchStatus.QUEUED.value)
            .values(status=BatchStatus.RUNNING.value, started_at=utc_now())
        )
        await session.commit()


async def _mark_failed(runtime: Runtime, batch_id: uuid.UUID) -> None:
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
        await record(
            session,
            entity="enrolment_batch",
            entity_id=batch_id,
            action="failed",
            client_id=None,
            to_status=BatchStatus.FAILED.value,
            details={"processed": batch.processed, "applications_released": len(released)},
        )
        await session.commit()
