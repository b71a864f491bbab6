from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints

from app.core.schemas import RequestModel, ResponseModel, Text


class EndpointIn(RequestModel):
    url: Annotated[Text, StringConstraints(min_length=8, max_length=500)] = Field(
        description="An https URL on a public address; it receives every event for the "
        "platform's workers."
    )
    description: Annotated[Text, StringConstraints(max_length=200)] | None = None


class EndpointOut(ResponseModel):
    id: uuid.UUID
    url: str
    description: str | None
    created_at: datetime
    secret_rotated_until: datetime | None = Field(
        description="Until then, deliveries carry a second `v1` signature made with the "
        "previous secret."
    )


class EndpointWithSecret(EndpointOut):
    secret: str = Field(
        description="The HMAC-SHA256 key for `X-Signature` (its UTF-8 bytes). Shown only here: "
        "store it now."
    )
