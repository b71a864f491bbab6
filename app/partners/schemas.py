from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import Field, StringConstraints

from app.core.schemas import RequestModel, ResponseModel, Text

MAX_WORKER_IDS = 1000
# As stored in `platform_workers.platform_worker_id`.
PlatformWorkerId = Annotated[Text, StringConstraints(min_length=1, max_length=128)]


class CoverageQuery(RequestModel):
    worker_ids: list[PlatformWorkerId] = Field(
        min_length=1,
        max_length=MAX_WORKER_IDS,
        description="The platform's own worker ids; answered in the same order.",
    )


class WorkerCoverage(ResponseModel):
    """One worker's cover, as its platform may know it. An id the platform has no covered
    worker under (unknown, never enrolled, or another platform's) answers `covered: false` with
    nulls, exactly like a worker whose cover has ended."""

    platform_worker_id: str
    covered: bool = Field(description="Cover is in force today (Shanghai date).")
    plan_code: str | None = Field(description="Plan of the current or next paid period.")
    starts_on: date | None = Field(description="First day of the current or next paid period.")
    ends_on: date | None = Field(description="Last day of the current or next paid period.")


class CoverageResults(ResponseModel):
    results: list[WorkerCoverage]
