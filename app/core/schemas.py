"""Base classes for request and response bodies."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict


class RequestModel(BaseModel):
    """Every request body: unknown fields are refused (`unknown_field`), strings trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ResponseModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL; refusing it here keeps both databases alike.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _storable_moment(value: datetime) -> datetime:
    if not EARLIEST_MOMENT <= value <= LATEST_MOMENT:
        raise ValueError("must be between the years 2000 and 2100")
    return value


# Free text that is stored: no NUL.
Text = Annotated[str, AfterValidator(_no_nul)]
# Money as PostgreSQL's `integer` stores it (¥21 million is far above any single amount here).
MAX_STORED_FEN = 2**31 - 1
# A moment from a partner system (a payment time): plausible, and storable once in UTC.
EARLIEST_MOMENT = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_MOMENT = datetime(2100, 1, 1, tzinfo=UTC)
GatewayMoment = Annotated[AwareDatetime, AfterValidator(_storable_moment)]
