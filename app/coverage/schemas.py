from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from app.core.schemas import RequestModel
from app.members.schemas import MemberIdentity


class BenefitUsage(BaseModel):
    benefit: str
    used_fen: int
    limit_fen: int
    remaining_fen: int = Field(
        description="What a new event could still be paid, ceiling included."
    )
    limit_per: Literal["period", "accident"]


class CeilingUsage(BaseModel):
    used_fen: int
    limit_fen: int
    remaining_fen: int


class PeriodOut(BaseModel):
    plan_code: str
    plan_version: str
    starts_on: date
    ends_on: date
    status: Literal["upcoming", "active", "ended"]
    continues_previous: bool
    benefits: list[BenefitUsage]
    ceiling: CeilingUsage


class CoverageView(BaseModel):
    member_id: uuid.UUID
    covered_today: bool
    died_on: date | None
    periods: list[PeriodOut]


class LookupIn(RequestModel):
    id_number: str = Field(min_length=1, max_length=32)
    name: str = Field(
        min_length=1, max_length=50, description="The member's name, as on their ID card."
    )


class LookupOut(BaseModel):
    member_id: uuid.UUID
    member: MemberIdentity
    union_org_code: str | None
    covered_today: bool
    current_period: PeriodOut | None = Field(description="In force today, or the next paid one.")
