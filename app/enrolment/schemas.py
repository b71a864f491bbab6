from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal, Self

from pydantic import BaseModel, Field, StrictBool, model_validator

from app.core.schemas import PersonName, RequestModel, ResponseModel
from app.members.schemas import MemberIdentity


class UnionMembership(RequestModel):
    """An existing union member number, or joining the union now (the online flow allows it)."""

    member_number: str | None = Field(default=None, min_length=1, max_length=64)
    join: StrictBool | None = None

    @model_validator(mode="after")
    def _one_of(self) -> Self:
        if (self.member_number is None) == (self.join is not True):
            raise ValueError("give either member_number or join: true")
        return self


class Consent(RequestModel):
    sensitive_personal_data: StrictBool = Field(
        description="Separate consent to process the ID number (PIPL art. 29)."
    )


class EnrolmentIn(RequestModel):
    plan_code: str = Field(min_length=1, max_length=64)
    id_number: str = Field(min_length=1, max_length=32)
    name: PersonName = Field(min_length=1, max_length=50)
    phone: str = Field(pattern=r"^(\+?86)?1[3-9][0-9]{9}$", description="Mainland mobile number.")
    platform_code: str = Field(min_length=1, max_length=64)
    platform_worker_id: str = Field(min_length=1, max_length=128)
    work_type: str = Field(min_length=1, max_length=32)
    work_city: str | None = Field(
        default=None, max_length=64, description="Where the work is done; default: Shanghai."
    )
    work_district: str | None = Field(
        default=None,
        max_length=16,
        description="The Shanghai district of the work, as its GB/T 2260 code (`310104` for "
        "徐汇区). Required with `union.join`: the applicant becomes a member of that district's "
        "union. 422 `work_district_required` or `work_district_unknown`.",
        examples=["310104"],
    )
    union: UnionMembership
    consent: Consent


class Check(BaseModel):
    code: str
    passed: bool
    detail: str | None = None


class EnrolmentOut(ResponseModel):
    id: uuid.UUID
    status: Literal[
        "pending_review", "awaiting_payment", "rejected", "paid", "refund_due", "expired"
    ]
    member_id: uuid.UUID
    plan_code: str
    plan_version: str
    applied_on: date
    platform_code: str
    platform_worker_id: str
    work_type: str
    work_district: str | None = None
    checks: list[Check]
    member: MemberIdentity
    review_note: str | None = None
    created_at: datetime


class EnrolmentReviewIn(RequestModel):
    decision: Literal["approve", "reject"]
    note: str = Field(min_length=1, max_length=1000, description="Why; kept in the audit trail.")
