from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from app.core.schemas import ResponseModel


class ReconciliationOut(ResponseModel):
    id: uuid.UUID
    date: date
    status: Literal["queued", "running", "done", "failed"]
    source: str
    error: str | None
    bill_lines: int
    our_entries: int
    matched: int
    differences: int
    created_at: datetime
    finished_at: datetime | None


class DifferenceOut(ResponseModel):
    kind: Literal["missing_here", "missing_there", "amount_mismatch", "status_mismatch"]
    line_kind: str
    our_ref: str
    gateway_ref: str | None
    bill_fen: int | None
    ours_fen: int | None


class DifferencePage(ResponseModel):
    items: list[DifferenceOut]
    next_after: int | None
