"""The SMS gateway's wire contract: one call, `POST {MUTUALAID_SMS_URL}/messages`.

Signed like every partner call (`X-Signature`, app.core.signing) with `MUTUALAID_SMS_SECRET`.
`message_id` is the gateway's idempotency key (also sent as `Idempotency-Key`): the same id with
the same body is the same message, answered the same way and delivered once; the same id with
another body is refused (409 `{"code": "id_reused"}`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MESSAGES_PATH = "/messages"
ID_REUSED = "id_reused"


class MessageIn(BaseModel):
    """What we send: exact, so a mistake is ours, found here."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    message_id: str = Field(min_length=1, max_length=64)
    phone: str = Field(pattern=r"^1[3-9][0-9]{9}$", description="A mainland mobile number.")
    text: str = Field(min_length=1, max_length=500)


class Accepted(BaseModel):
    """The gateway holds the message for delivery. Validated strictly: we store `gateway_ref`."""

    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)

    id: str = Field(min_length=1, description="The message_id, echoed.")
    gateway_ref: str = Field(min_length=1, max_length=64)
    status: Literal["accepted"]


class Refusal(BaseModel):
    """A 4xx answer's body: `invalid_phone`, `undeliverable`, `invalid_signature`, ..."""

    model_config = ConfigDict(extra="ignore")

    code: str | None = None
