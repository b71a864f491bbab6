from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from app.core.policy import Role
from app.core.schemas import RequestModel, ResponseModel

MAX_RATE_LIMIT = 100_000


class ClientOut(ResponseModel):
    id: uuid.UUID
    name: str
    role: Role
    org_code: str | None = Field(description="Union org code or platform code it is bound to.")
    key_prefix: str = Field(description="First characters of the key, to tell keys apart.")
    created_at: datetime
    revoked_at: datetime | None
    rate_limit_per_second: int | None = Field(
        description="Requests a second per API process set for this client; null: its role's."
    )


class ClientChanges(RequestModel):
    rate_limit_per_second: int | None = Field(
        ge=1,
        le=MAX_RATE_LIMIT,
        description="Requests a second per API process for this client; null: back to its "
        "role's default.",
    )


class CallerOut(ResponseModel):
    id: uuid.UUID
    name: str
    role: Role
    org_code: str | None
    rate_limit_per_second: int | None = Field(
        description="Requests a second per API process this client is held to (its own, else "
        "its role's); null when limits are off."
    )
