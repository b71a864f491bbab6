"""Our client for the SMS gateway: hand it one message, signed, under the message's own id.

A repeat is safe: `message_id` is the gateway's idempotency key, so a retry after a timeout (or
the call of a job whose worker was killed mid-send) never delivers twice. A timeout, a refused
connection or a 5xx is retried a bounded number of times and then raised as `SmsUnavailable`
(the outcome is unknown: the same message may be sent again later); a 4xx is the gateway's answer
and is not retried (`SmsRefused`).

The phone number and the text are in the body only: never in logs or exception messages.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx
from pydantic import ValidationError

from app.core.outbound import outbound_client
from app.core.partner_calls import (
    BACKOFF_SECONDS,
    CALLER_PROBLEMS,
    PartnerUnavailable,
    signed_call,
)
from app.notifications.contract import MESSAGES_PATH, Accepted, MessageIn, Refusal

if TYPE_CHECKING:
    from app.core.config import Settings
    from app.core.runtime import Runtime

logger = logging.getLogger(__name__)


class SmsError(Exception):
    """Base of everything the SMS client raises."""


class SmsNotConfigured(SmsError):
    """No URL or no secret: nothing was sent."""


class SmsUnavailable(SmsError):
    """No usable answer after the bounded retries: the outcome is unknown, and the same message
    with the same id is safe to send again later."""


class SmsBadAnswer(SmsUnavailable):
    """An answer outside the contract: the message may or may not have been taken."""


class SmsRefused(SmsError):
    """A 4xx: the gateway will not send this message as asked."""

    def __init__(self, status: int, code: str | None) -> None:
        super().__init__(f"the SMS gateway refused the message: HTTP {status} {code or ''}".strip())
        self.status = status
        self.code = code

    @property
    def about_us(self) -> bool:
        """About how we call (signature, URL, rate), not about this message: wait, fix the
        setting, and send it again rather than fail it."""
        return self.status in CALLER_PROBLEMS


@dataclass(frozen=True)
class SmsConfig:
    base_url: str
    secret: bytes
    timeout_seconds: float = 5.0
    retries: int = 2
    backoff_seconds: float = BACKOFF_SECONDS

    @classmethod
    def from_settings(cls, settings: Settings) -> SmsConfig:
        secret = settings.sms_secret_bytes()
        if not settings.sms_url or not secret:
            raise SmsNotConfigured("MUTUALAID_SMS_URL or MUTUALAID_SMS_SECRET is not set")
        return cls(
            base_url=settings.sms_url.rstrip("/"),
            secret=secret,
            timeout_seconds=settings.sms_timeout_seconds,
            retries=settings.sms_retries,
        )


class SmsClient:
    """Uses the given `httpx.AsyncClient` (the process's pool) or its own, closed by `aclose`."""

    def __init__(self, config: SmsConfig, http: httpx.AsyncClient | None = None) -> None:
        self._config = config
        self._owned = http is None
        self._http = http or outbound_client()

    @classmethod
    def from_runtime(cls, runtime: Runtime) -> SmsClient:
        return cls(SmsConfig.from_settings(runtime.settings), runtime.http)

    async def aclose(self) -> None:
        if self._owned:
            await self._http.aclose()

    async def send(self, message: MessageIn) -> Accepted:
        body = message.model_dump_json().encode()
        response = await self._post(body, message.message_id)
        if 400 <= response.status_code < 500:
            try:
                code = Refusal.model_validate_json(response.content).code
            except ValidationError:
                code = None
            raise SmsRefused(response.status_code, code)
        if response.status_code != 200:
            raise SmsBadAnswer(f"{MESSAGES_PATH} answered HTTP {response.status_code}")
        try:
            accepted = Accepted.model_validate_json(response.content)
        except ValidationError as exc:
            raise SmsBadAnswer(f"{MESSAGES_PATH} answer is not the contract's") from exc
        if accepted.id != message.message_id:
            raise SmsBadAnswer(f"{MESSAGES_PATH} answered about another message")
        return accepted

    async def _post(self, body: bytes, key: str) -> httpx.Response:
        """One signed call, retried within bounds (`app.core.partner_calls`)."""
        try:
            return await signed_call(self._http, self._config, "POST", MESSAGES_PATH, body, key)
        except PartnerUnavailable as exc:
            logger.warning("SMS gateway unavailable: %s", exc)
            raise SmsUnavailable(f"{MESSAGES_PATH}: {exc}") from exc
