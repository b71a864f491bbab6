"""Our client for the payment gateway: instruct transfers and refunds, fetch the daily bill.

Every call may be repeated safely: the instruction's id is the gateway's idempotency key (sent in
the body and as `Idempotency-Key`), so a retry after a timeout never pays twice. That is why a
timeout, a refused connection or a 5xx is retried here a bounded number of times and then raised
as `GatewayUnavailable` (the outcome is unknown: ask again later with the same id), while a 4xx is
the gateway's answer and is never retried (`GatewayRefused`). Requests are signed with our first
payment secret, the same `X-Signature` scheme the gateway signs its notifications with.

Account numbers and holder names are in the body only: never in logs or exception messages.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from types import TracebackType
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
from app.gateway.contract import BILL_COLUMNS, Accepted, RefundIn, Refusal, TransferIn

if TYPE_CHECKING:
    from app.core.config import Settings
    from app.core.runtime import Runtime

logger = logging.getLogger(__name__)


class GatewayError(Exception):
    """Base of everything the gateway client raises."""


class GatewayNotConfigured(GatewayError):
    """No gateway URL or no secret to sign with: nothing was sent."""


class GatewayUnavailable(GatewayError):
    """No usable answer after the bounded retries: the outcome is unknown, and the same call
    with the same id is safe to make again later."""


class GatewayBadAnswer(GatewayUnavailable):
    """The gateway answered outside the contract (not JSON, wrong fields, another id). The
    instruction may or may not have been taken, so it is as unknown as no answer at all."""


class GatewayRefused(GatewayError):
    """A 4xx: the gateway will not do it as asked. Repeating the same call will not help."""

    def __init__(self, path: str, status: int, code: str | None) -> None:
        super().__init__(f"the gateway refused {path}: HTTP {status} {code or ''}".rstrip())
        self.status = status
        self.code = code

    @property
    def about_us(self) -> bool:
        """The refusal is about how we call (our signature, the URL, too many calls), not about
        the instruction: the money must not be marked failed; fix the setting and repeat."""
        return self.status in CALLER_PROBLEMS


class BillNotReady(GatewayError):
    """The bill for that date is not published yet (404); ask again later."""


@dataclass(frozen=True)
class GatewayConfig:
    base_url: str
    secret: bytes
    timeout_seconds: float = 10.0
    retries: int = 2
    backoff_seconds: float = BACKOFF_SECONDS

    @classmethod
    def from_settings(cls, settings: Settings) -> GatewayConfig:
        secrets = settings.payment_secrets()
        if not settings.gateway_url or not secrets:
            raise GatewayNotConfigured("MUTUALAID_GATEWAY_URL or the payment secret is not set")
        return cls(
            base_url=settings.gateway_url.rstrip("/"),
            secret=secrets[0],
            timeout_seconds=settings.gateway_timeout_seconds,
            retries=settings.gateway_retries,
        )


class GatewayClient:
    """Uses the given `httpx.AsyncClient` (the process's shared pool) or opens its own, which
    `aclose` (or `async with`) closes."""

    def __init__(self, config: GatewayConfig, http: httpx.AsyncClient | None = None) -> None:
        self._config = config
        self._owned = http is None
        self._http = http or outbound_client()

    @classmethod
    def from_runtime(cls, runtime: Runtime) -> GatewayClient:
        return cls(GatewayConfig.from_settings(runtime.settings), runtime.http)

    async def __aenter__(self) -> GatewayClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owned:
            await self._http.aclose()

    async def transfer(self, transfer: TransferIn) -> Accepted:
        return await self._instruct("/transfers", transfer.transfer_id, transfer.model_dump_json())

    async def refund(self, refund: RefundIn) -> Accepted:
        return await self._instruct("/refunds", refund.refund_id, refund.model_dump_json())

    async def bill(self, day: date) -> bytes:
        """The day's bill CSV, its header row checked; the rows are `contract.read_bill`'s."""
        path = f"/bills/{day.isoformat()}.csv"
        response = await self._send("GET", path, b"", None)
        if response.status_code == 404:
            raise BillNotReady(f"no bill for {day.isoformat()} yet")
        _refuse_4xx(path, response)
        if response.status_code != 200:
            raise GatewayBadAnswer(f"{path} answered HTTP {response.status_code}")
        first_line = response.content.split(b"\n", 1)[0].strip()
        if first_line != ",".join(BILL_COLUMNS).encode():
            raise GatewayBadAnswer(f"{path} is not a bill: its header row is not the contract's")
        return response.content

    async def _instruct(self, path: str, key: str, body: str) -> Accepted:
        response = await self._send("POST", path, body.encode(), key)
        _refuse_4xx(path, response)
        if response.status_code != 200:
            raise GatewayBadAnswer(f"{path} answered HTTP {response.status_code}")
        try:
            accepted = Accepted.model_validate_json(response.content)
        except ValidationError as exc:
            fields = ", ".join(".".join(map(str, e["loc"])) or "body" for e in exc.errors()[:5])
            raise GatewayBadAnswer(f"{path} answer is not the contract's ({fields})") from exc
        if accepted.id != key:
            raise GatewayBadAnswer(f"{path} answered about another id")
        return accepted

    async def _send(self, method: str, path: str, body: bytes, key: str | None) -> httpx.Response:
        """One signed call, retried within bounds (`app.core.partner_calls`)."""
        try:
            return await signed_call(self._http, self._config, method, path, body, key)
        except PartnerUnavailable as exc:
            logger.warning("gateway %s %s unavailable: %s", method, path, exc)
            raise GatewayUnavailable(f"{path}: {exc}") from exc


def _refuse_4xx(path: str, response: httpx.Response) -> None:
    if not 400 <= response.status_code < 500:
        return
    try:
        code = Refusal.model_validate_json(response.content).code
    except ValidationError:
        code = None
    raise GatewayRefused(path, response.status_code, code)
