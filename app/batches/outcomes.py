"""A row's result: accepted, rejected or duplicate, with its codes and, when accepted, the member
and enrolment it made. Only the union's own `ref` is echoed back, never personal data."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from app.batches.models import RowOutcome


@dataclass(slots=True)  # not frozen: one is made per row, and frozen ones cost 2-3x to make
class RowResult:
    row_number: int
    ref: str | None
    outcome: RowOutcome
    codes: list[str] = field(default_factory=list)
    duplicate_of_row: int | None = None
    member_id: uuid.UUID | None = None
    enrolment_id: uuid.UUID | None = None

    @classmethod
    def rejected(cls, row_number: int, ref: str | None, codes: list[str]) -> RowResult:
        return cls(row_number, ref, RowOutcome.REJECTED, codes)

    def row(self, batch_id: uuid.UUID) -> dict[str, Any]:
        return {
            "batch_id": batch_id,
            "row_number": self.row_number,
            "ref": self.ref,
            "outcome": self.outcome.value,
            "codes": self.codes,
            "duplicate_of_row": self.duplicate_of_row,
            "member_id": self.member_id,
            "enrolment_id": self.enrolment_id,
        }
