from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from app.core.policy import Role
from app.core.schemas import ResponseModel


class ClientOut(ResponseModel):
    id: uuid.UUID
    name: str
    role: Role
    org_code: str | None = Field(description="Union org code or platform code it is bound to.")
    key_prefix: str = Field(description="First characters of the key, to tell keys apart.")
    created_at: datetime
    revoked_at: datetime | None


class CallerOut(ResponseModel):
    id: uuid.UUID
    name: str
    role: Role
    org_code: str | None
