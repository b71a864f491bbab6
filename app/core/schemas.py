"""Base classes for request and response bodies."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, ClassVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    field_validator,
)

from app.core.names import readable_name


class RequestModel(BaseModel):
    """Every request body: unknown fields are refused (`unknown_field`), strings trimmed, and
    no string holds NUL (PostgreSQL text cannot; refusing it keeps both databases alike)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    # False where the service refuses such values itself, with a more useful answer.
    refuses_nul: ClassVar[bool] = True

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul_in_strings(cls, value: object) -> object:
        if not cls.refuses_nul:
            return value
        texts = value if isinstance(value, list | tuple) else (value,)
        for text in texts:
            if isinstance(text, str):
                _no_nul(text)
        return value


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
# A person's name: stored text that people can read (`app.core.names`).
PersonName = Annotated[str, AfterValidator(_no_nul), AfterValidator(readable_name)]
# Money as PostgreSQL's `integer` stores it (¥21 million is far above any single amount here).
MAX_STORED_FEN = 2**31 - 1
# A moment from a partner system (a payment time): plausible, and storable once in UTC.
EARLIEST_MOMENT = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_MOMENT = datetime(2100, 1, 1, tzinfo=UTC)

_NUMBER = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*")


def _written_out(value: object) -> object:
    """The spec's `date` and `date-time` are ISO 8601 strings. Pydantic would also read a
    number, or a string of one, as seconds since 1970: `0.5` became a moment in 1970."""
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.fullmatch(value)):
        raise ValueError("expected an ISO 8601 date, such as 2026-11-24, not a number")
    return value


# Dates and moments in requests, as the spec writes them.
Day = Annotated[date, BeforeValidator(_written_out)]
Moment = Annotated[AwareDatetime, BeforeValidator(_written_out)]
# The gateway's moments stay lenient (epoch seconds too): refusing them would refuse payments.
GatewayMoment = Annotated[AwareDatetime, AfterValidator(_storable_moment)]
