"""HMAC-signed bodies, one scheme for every partner (design section 5).

`X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.rawbody">`. The payment gateway signs
its notifications (premiums, payouts) this way, and the service signs its webhooks to platforms
the same way. Several `v1` values may be sent, and several secrets accepted, so either side can
rotate without downtime. Freshness is judged on the real clock, never the service's business
clock, which a demo may fix.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from typing import TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from app.core.errors import Unauthorized

Body = TypeVar("Body", bound=BaseModel)

TOLERANCE_SECONDS = 300
_TIMESTAMP = re.compile(r"[0-9]{1,12}")  # ASCII only: `str.isdigit` accepts "²"
_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    return hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secret: bytes, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


def verify(header: str | None, body: bytes, secrets: list[bytes], now: float) -> None:
    """Raise 401 unless one of `secrets` signed this body within the tolerance."""
    if not header:
        raise Unauthorized("X-Signature is missing", code="invalid_signature")
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and _TIMESTAMP.fullmatch(value):
            timestamp = int(value)
        elif key == "v1" and _HEX_DIGEST.fullmatch(value):
            candidates.append(value)
    if timestamp is None or not candidates:
        raise Unauthorized("X-Signature is malformed", code="invalid_signature")
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        raise Unauthorized("the signature is too old or from the future", code="stale_signature")
    expected = [sign(secret, timestamp, body) for secret in secrets]
    # Compare every pair in constant time; no early exit on the first match.
    matched = False
    for candidate in candidates:
        for wanted in expected:
            matched |= hmac.compare_digest(candidate.encode(), wanted.encode())
    if not matched:
        raise Unauthorized("the signature does not match", code="invalid_signature")


async def signed_body(request: Request, model: type[Body]) -> Body:
    """The request's body as `model`, once the `X-Signature` over the raw bytes is verified (401
    before any parsing); a body that does not fit the model is the usual 422."""
    raw = await request.body()
    verify(
        request.headers.get("X-Signature"),
        raw,
        request.app.state.settings.payment_secrets(),
        time.time(),
    )
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]
        ) from exc
