"""One signed call to a partner that moves money or sends messages (the payment gateway, the SMS
gateway), retried within bounds.

Each attempt is signed afresh (a retry after a long timeout must not carry a stale signature),
carries the caller's idempotency key, and runs within a hard deadline (httpx's timeout is per
read: a trickle would never trip it). Timeouts, refused connections and 5xx are tried again with
doubling pauses; a connection that breaks mid-call is not, since the partner may have acted: the
caller asks again later with the same key. Whatever answer below 500 comes back is the caller's
to read.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

import httpx

from app.core.signing import signature_header

# A 4xx about how we call, not about what we asked: 401 signature, 403 not allowed, 404/405
# wrong URL, 429 too many calls. The caller waits and repeats instead of failing the request.
CALLER_PROBLEMS = frozenset({401, 403, 404, 405, 429})
BACKOFF_SECONDS = 0.2


class PartnerUnavailable(Exception):
    """No answer below 500 within the attempts, or a call broken midway (outcome unknown)."""


class Partner(Protocol):
    """Where and how to call one partner (its client's settings)."""

    @property
    def base_url(self) -> str: ...
    @property
    def secret(self) -> bytes: ...
    @property
    def timeout_seconds(self) -> float: ...
    @property
    def retries(self) -> int: ...
    @property
    def backoff_seconds(self) -> float: ...


async def signed_call(
    http: httpx.AsyncClient,
    partner: Partner,
    method: str,
    path: str,
    body: bytes,
    key: str | None,
) -> httpx.Response:
    attempts = partner.retries + 1
    problem = "no attempt made"
    for attempt in range(1, attempts + 1):
        try:
            async with asyncio.timeout(partner.timeout_seconds):
                response = await http.request(
                    method,
                    partner.base_url + path,
                    content=body,
                    headers=_headers(partner.secret, body, key),
                    timeout=partner.timeout_seconds,
                )
            if response.status_code < 500:
                return response
            problem = f"HTTP {response.status_code}"
        except (TimeoutError, httpx.TimeoutException):
            problem = "timed out"
        except httpx.ConnectError:
            problem = "could not connect"
        except httpx.TransportError as exc:  # broke mid-call: unknown outcome
            raise PartnerUnavailable(type(exc).__name__) from exc
        if attempt < attempts:
            await asyncio.sleep(partner.backoff_seconds * 2 ** (attempt - 1))
    raise PartnerUnavailable(f"{problem} after {attempts} attempts")


def _headers(secret: bytes, body: bytes, key: str | None) -> dict[str, str]:
    headers = {"X-Signature": signature_header(secret, int(time.time()), body)}
    if body:
        headers["Content-Type"] = "application/json"
    if key is not None:
        headers["Idempotency-Key"] = key
    return headers
