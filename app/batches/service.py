"""A union's batches: follow their progress, read their rows' outcomes (submitting one is
`app.batches.submission`)."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.batches.models import BatchRow, EnrolmentBatch, RowOutcome
from app.batches.schemas import BatchOut, BatchRowOut, BatchRowsPage, InvoiceOut
from app.core.errors import BadRequest, Forbidden, NotFound
from app.core.policy import Caller, Tenant
from app.core.runtime import Runtime
from app.payments.models import PaymentOrder
from app.payments.schemas import PaymentOrderOut

CSV_PAGE_ROWS = 5000


def union_of(caller: Caller) -> str:
    tenant = caller.tenant
    if tenant is None:
        raise Forbidden("this union client is bound to no union", code="client_not_bound")
    return tenant.code


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
