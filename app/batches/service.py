"""A union's batches: submit one, follow its progress, read its rows' outcomes.

Submitting stores the upload (encrypted, in chunks) and one job per chunk in a single
transaction, and answers at once; workers do the rest (`app.batches.chunks`).
"""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
from collections.abc import AsyncIterator
from datetime import date

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app import plans
from app.audit.service import Change, record
from app.batches import upload
from app.batches.models import BatchChunk, BatchRow, BatchStatus, EnrolmentBatch, RowOutcome
from app.batches.queueing import enqueue_chunk
from app.batches.schemas import BatchOut, BatchRowOut, BatchRowsPage, InvoiceOut
from app.batches.screening import Candidate, Row, screen
from app.core.errors import BadRequest, Forbidden, NotFound, Unprocessable
from app.core.policy import Caller, Tenant
from app.core.runtime import Runtime
from app.payments.models import PaymentOrder
from app.payments.schemas import PaymentOrderOut
from app.platforms.models import Platform
from app.rules.plan import Plan

CSV_PAGE_ROWS = 5000


def _union_of(caller: Caller) -> str:
    tenant = caller.tenant
    if tenant is None:
        raise Forbidden("this union client is bound to no union", code="client_not_bound")
    return tenant.code


async def submit(
    runtime: Runtime,
    session: AsyncSession,
    caller: Caller,
    body: bytes,
    content_type: str | None,
    plan_code: str | None,
) -> BatchOut:
    union = _union_of(caller)
    # Reading 100,000 rows takes a moment of CPU: not on the event loop.
    parsed = await asyncio.to_thread(upload.parse, body, content_type, plan_code)
    if not plans.versions(parsed.plan_code):
        raise Unprocessable(f"no plan {parsed.plan_code!r}", code="plan_unknown")
    today = runtime.clock.today()
    # One version for the whole batch: the one in force on the first day of cover of a new
    # member paying today (a renewal row that would start outside it is refused).
    plan = plans.book().for_payment_on(parsed.plan_code, today)
    if plan is None:
        raise Unprocessable(
            f"no version of {parsed.plan_code!r} is in force when cover would start",
            code="plan_not_in_force",
        )
    batch_id = uuid.uuid4()
    chunks = await _cut(runtime, batch_id, parsed, plan, today)
    batch = EnrolmentBatch(
        id=batch_id,
        union_org_code=union,
        created_by_client_id=caller.client_id,
        plan_code=plan.code,
        plan_version=plan.version,
        applied_on=today,
        source=parsed.source,
        status=BatchStatus.QUEUED.value,
        total=len(parsed.rows),
        chunk_count=len(chunks),
        processed=0,
        accepted=0,
        rejected=0,
        duplicate=0,
        activated=0,
        refund_due=0,
    )
    session.add(batch)
    await session.flush()
    await session.execute(
        insert(BatchChunk),
        [
            {
                "batch_id": batch_id,
                "chunk_no": c.chunk_no,
                "first_row": c.first_row,
                "row_count": c.row_count,
                "rows_cipher": c.rows_cipher,
            }
            for c in chunks
        ],
    )
    for c in chunks:
        enqueue_chunk(session, batch_id, c.chunk_no, union)
    record(
        session,
        Change(
            entity="enrolment_batch",
            entity_id=batch_id,
            action="created",
            client_id=caller.client_id,
            to_status=BatchStatus.QUEUED.value,
            details={"rows": batch.total, "source": batch.source, "union": union},
        ),
    )
    await session.flush()
    return out(batch, None)


async def _cut(
    runtime: Runtime, batch_id: uuid.UUID, parsed: upload.Upload, plan: Plan, today: date
) -> list[upload.PreparedChunk]:
    """The upload in encrypted chunks, repeats inside the file marked (only a row that passes
    the checks on its own values counts as a first occurrence)."""
    async with runtime.db.reader() as reader:
        enabled = (await reader.scalars(select(Platform).where(Platform.enabled))).all()
    work_types = {p.code: list(p.work_types) for p in enabled}

    def well_formed(number: int, row: Row) -> bool:
        return isinstance(screen(plan, work_types, number, row, today), Candidate)

    # Encrypting 100,000 rows takes a moment of CPU: not on the event loop.
    return await asyncio.to_thread(
        lambda: list(
            upload.prepare_chunks(
                runtime.cipher,
                str(batch_id),
                parsed.rows,
                runtime.settings.batch_chunk_rows,
                well_formed,
            )
        )
    )


def out(batch: EnrolmentBatch, invoice: PaymentOrder | None) -> BatchOut:
    return BatchOut(
        id=batch.id,
        status=batch.status,
        plan_code=batch.plan_code,
        plan_version=batch.plan_version,
        applied_on=batch.applied_on,
        source=batch.source,
        total=batch.total,
        processed=batch.processed,
        accepted=batch.accepted,
        rejected=batch.rejected,
        duplicate=batch.duplicate,
        activated=batch.activated,
        refund_due=batch.refund_due,
        invoice=(
            InvoiceOut(**PaymentOrderOut.model_validate(invoice).model_dump(), rows=batch.accepted)
            if invoice is not None
            else None
        ),
        created_at=batch.created_at,
        started_at=batch.started_at,
        finished_at=batch.finished_at,
    )


async def _own_batch(session: AsyncSession, caller: Caller, batch_id: uuid.UUID) -> EnrolmentBatch:
    """The batch, if it is the caller's union's; another union's answers like a missing one."""
    batch = await session.get(EnrolmentBatch, batch_id)
    if batch is None or not caller.sees(Tenant.union(batch.union_org_code)):
        raise NotFound("batch not found", code="batch_not_found")
    return batch


async def get(session: AsyncSession, caller: Caller, batch_id: uuid.UUID) -> BatchOut:
    batch = await _own_batch(session, caller, batch_id)
    invoice = (
        await session.scalars(select(PaymentOrder).where(PaymentOrder.batch_id == batch.id))
    ).first()
    return out(batch, invoice)


def _parse_cursor(cursor: str | None) -> int:
    if cursor is None:
        return 0
    if not (cursor.isascii() and cursor.isdigit()) or len(cursor) > 9:
        raise BadRequest("not a cursor this endpoint gave out", code="invalid_cursor")
    return int(cursor)


async def rows_page(
    session: AsyncSession,
    caller: Caller,
    batch_id: uuid.UUID,
    outcome: RowOutcome | None,
    cursor: str | None,
    limit: int,
) -> BatchRowsPage:
    batch = await _own_batch(session, caller, batch_id)
    after = _parse_cursor(cursor)
    query = select(BatchRow).where(BatchRow.batch_id == batch.id, BatchRow.row_number > after)
    if outcome is not None:
        query = query.where(BatchRow.outcome == outcome.value)
    found = (await session.scalars(query.order_by(BatchRow.row_number).limit(limit + 1))).all()
    page = [_row_out(r) for r in found[:limit]]
    next_cursor = str(page[-1].row_number) if len(found) > limit else None
    return BatchRowsPage(rows=page, next_cursor=next_cursor)


def _row_out(row: BatchRow) -> BatchRowOut:
    return BatchRowOut(
        row_number=row.row_number,
        ref=row.ref,
        outcome=row.outcome,
        codes=list(row.codes),
        duplicate_of_row=row.duplicate_of_row,
        member_id=row.member_id,
        enrolment_id=row.enrolment_id,
    )


CSV_COLUMNS = ("row_number", "ref", "outcome", "codes", "duplicate_of_row")


async def rows_csv(
    runtime: Runtime, caller: Caller, batch_id: uuid.UUID, outcome: RowOutcome
) -> AsyncIterator[str]:
    """The rows with this outcome as CSV, read page by page (a batch may hold 100,000): row
    number, the union's ref, outcome, codes (separated by `;`) and the earlier row a duplicate
    repeats. Nothing else about the person."""
    async with runtime.db.reader() as session:
        await _own_batch(session, caller, batch_id)
    return _csv_pages(runtime, batch_id, outcome)


async def _csv_pages(
    runtime: Runtime, batch_id: uuid.UUID, outcome: RowOutcome
) -> AsyncIterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    after = 0
    while True:
        async with runtime.db.reader() as session:
            page = (
                await session.scalars(
                    select(BatchRow)
                    .where(
                        BatchRow.batch_id == batch_id,
                        BatchRow.outcome == outcome.value,
                        BatchRow.row_number > after,
                    )
                    .order_by(BatchRow.row_number)
                    .limit(CSV_PAGE_ROWS)
                )
            ).all()
        for row in page:
            writer.writerow(
                (
                    row.row_number,
                    _csv_safe(row.ref),
                    row.outcome,
                    ";".join(row.codes),
                    row.duplicate_of_row or "",
                )
            )
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if len(page) < CSV_PAGE_ROWS:
            return
        after = page[-1].row_number


def _csv_safe(value: str | None) -> str:
    """A ref starting with `=`, `+`, `-` or `@` would run as a formula in a spreadsheet."""
    if value and value[0] in "=+-@\t\r":
        return "'" + value
    return value or ""
