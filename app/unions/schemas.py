from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from pydantic import Field

from app.core.schemas import ResponseModel


class UnionMemberOut(ResponseModel):
    member_id: uuid.UUID
    id_number_masked: str
    name_masked: str
    union_member_number: str | None
    joined_on: date = Field(
        description="The Shanghai day the person became this union's member here: joined "
        "through the app, or enrolled by one of the union's batches."
    )
    cover: Literal["active", "upcoming", "none"] = Field(
        description="`active`: cover in force today; `upcoming`: a paid period starts later; "
        "`none`: neither (never covered, lapsed, or ended by a recorded death)."
    )
    cover_starts_on: date | None = Field(description="The period in force, else the next one.")
    cover_ends_on: date | None


class UnionMembersPage(ResponseModel):
    union_org_code: str
    members: list[UnionMemberOut] = Field(description="Oldest member of the union first.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )
