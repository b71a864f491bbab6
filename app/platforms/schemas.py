from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AnyHttpUrl, Field, StrictBool, StringConstraints

from app.core.schemas import RequestModel, ResponseModel
from app.rules.vocabulary import WORK_TYPES

WorkType = Annotated[str, Field(json_schema_extra={"enum": sorted(WORK_TYPES)})]
PlatformCode = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")]


class PlatformIn(RequestModel):
    code: PlatformCode
    name: str = Field(min_length=1, max_length=200)
    work_types: list[WorkType] = Field(min_length=1, max_length=len(WORK_TYPES))
    verify_url: AnyHttpUrl
    bulk_verify_url: AnyHttpUrl | None = None
    credential: str | None = Field(
        default=None, max_length=500, description="Sent as a bearer token; stored encrypted."
    )


class PlatformUpdate(RequestModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    verify_url: AnyHttpUrl | None = None
    bulk_verify_url: AnyHttpUrl | None = None
    credential: str | None = Field(default=None, max_length=500)
    enabled: StrictBool | None = None


class PlatformOut(ResponseModel):
    code: str
    name: str
    work_types: list[str]
    verify_url: str
    bulk_verify_url: str | None
    has_credential: bool
    enabled: bool
    created_at: datetime
