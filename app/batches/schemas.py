from __future__ import annotations

import uuid
from datetime import datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, Field

from app.core.schemas import Day, RequestModel, ResponseModel
from app.payments.schemas import PaymentOrderOut

MAX_ROWS = 100_000
# Stored and echoed back: no control characters (PostgreSQL text cannot even hold NUL).
REF_PATTERN = r"^[^\x00-\x1f\x7f]*$"
REQUIRED_COLUMNS = (
    "ref",
    "id_number",
    "name",
    "phone",
    "platform_code",
    "platform_worker_id",
    "work_type",
    "union_member_number",
)
OPTIONAL_COLUMNS = ("work_city",)
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS


class BatchRowIn(RequestModel):
    """One member to enrol. Every column must be present; an empty or invalid value rejects
    that row only (with a code in the row's outcome), never the file."""

    # A row's bad characters reject that row alone (`invalid_characters`), not the whole batch.
    refuses_nul: ClassVar[bool] = False
    ref: str | None = Field(
        max_length=64,
        pattern=REF_PATTERN,
        description="The union's own reference for the row, echoed in the outcomes. "
        "Put no personal data in it.",
    )
    id_number: str
    name: str
    phone: str
    platform_code: str
    platform_worker_id: str
    work_type: str
    union_member_number: str = Field(description="The member's number in the union's records.")
    work_city: str | None = Field(
        default=None, description="Where the work is done; default Shanghai."
    )


class BatchIn(RequestModel):
    plan_code: str = Field(min_length=1, max_length=64)
    rows: list[BatchRowIn] = Field(min_length=1, max_length=MAX_ROWS)


CSV_DESCRIPTION = (
    "UTF-8 (a BOM is allowed), a header row naming the columns "
    f"{', '.join(REQUIRED_COLUMNS)} (and optionally {', '.join(OPTIONAL_COLUMNS)}), then one row "
    f"per member, at most {MAX_ROWS:,}. The plan is the `plan_code` query parameter."
)


class InvoiceOut(PaymentOrderOut):
    """The union's invoice: accepted rows x the plan's premium."""

    rows: int = Field(description="Accepted rows this invoice pays for.")


class BatchOut(ResponseModel):
    id: uuid.UUID
    status: Literal["queued", "running", "done", "failed"]
    plan_code: str
    plan_version: str
    applied_on: Day = Field(description="Application date of every row; ages are checked on it.")
    source: Literal["json", "csv"]
    total: int
    processed: int
    accepted: int
    rejected: int
    duplicate: int
    activated: int = Field(description="Accepted rows whose cover has started (invoice paid).")
    refund_due: int = Field(
        description="Paid rows that could not start cover (e.g. 60 on the first day of cover)."
    )
    invoice: InvoiceOut | None = Field(description="Once the batch is done and a row accepted.")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class BatchRowOut(BaseModel):
    row_number: int = Field(description="1 for the first data row (the line after a CSV header).")
    ref: str | None
    outcome: Literal["accepted", "rejected", "duplicate"]
    codes: list[str]
    duplicate_of_row: int | None = None
    member_id: uuid.UUID | None = None
    enrolment_id: uuid.UUID | None = None


class BatchRowsPage(BaseModel):
    rows: list[BatchRowOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )
