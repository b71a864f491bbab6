"""Asking a platform whether someone really works through it (design section 5, outbound).

`POST {verify_url}` with `{platform_worker_id, id_number, name}` answers
`{registered, city, work_type, last_order_at, orders_last_7_days}`. The call has a short timeout
and a few retries with backoff for timeouts, connection errors and 5xx answers. Anything else
unusable (4xx, not JSON, missing or mistyped fields) is "unavailable": the application then
waits for a person to check the uploaded proof (`pending_review`). An unavailable platform must
never crash an application, and never verify a worker by default.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import httpx
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from app.rules.eligibility import PlatformWork

logger = logging.getLogger(__name__)


class VerificationAnswer(BaseModel):
    """The platform's answer, validated strictly: a wrong type is not "probably fine"."""

    model_config = ConfigDict(extra="ignore", strict=True)

    registered: bool
    city: str | None = None
    work_type: str | None = None
    last_order_at: AwareDatetime | None = Field(default=None, strict=False)
    orders_last_7_days: int = Field(ge=0)

    def as_work(self) -> PlatformWork:
        return PlatformWork(
            registered=self.registered,
            city=self.city,
            work_type=self.work_type,
            orders_last_7_days=self.orders_last_7_days,
            last_order_at=self.last_order_at,
        )


@dataclass(frozen=True)
class Unavailable:
    """Why the platform could not answer; the reason is for examiners, not for the applicant."""

    reason: str


@dataclass(frozen=True)
class VerifierSettings:
    timeout_seconds: float = 3.0
    attempts: int = 3
    backoff_seconds: float = 0.2


@dataclass(frozen=True)
class PlatformEndpoint:
    code: str
    verify_url: str
    credential: str | None = None


MAX_ANSWER_BYTES = 64 * 1024


async def verify_worker(
    http: httpx.AsyncClient,
    platform: PlatformEndpoint,
    *,
    platform_worker_id: str,
    id_number: str,
    name: str,
    settings: VerifierSettings | None = None,
) -> PlatformWork | Unavailable:
    """Ask the platform, within a hard deadline: each attempt may take `timeout_seconds` in all
    (httpx's own timeout is per read, and a platform trickling bytes would never trip it)."""
    settings = settings or VerifierSettings()
    headers = {"Authorization": f"Bearer {platform.credential}"} if platform.credential else {}
    payload = {"platform_worker_id": platform_worker_id, "id_number": id_number, "name": name}
    last_problem = "no attempt made"
    for attempt in range(1, settings.attempts + 1):
        try:
            async with asyncio.timeout(settings.timeout_seconds):
                return await _ask(http, platform, payload, headers, settings.timeout_seconds)
        except TimeoutError:
            last_problem = "timed out"
        except _Retryable as exc:
            last_problem = str(exc)
        except _Unusable as exc:
            logger.warning("platform %s gave an unusable answer: %s", platform.code, exc)
            return Unavailable(str(exc))
        if attempt < settings.attempts:
            await asyncio.sleep(settings.backoff_seconds * 2 ** (attempt - 1))
    logger.warning(
        "platform %s unavailable after %d attempts: %s",
        platform.code,
        settings.attempts,
        last_problem,
    )
    return Unavailable(last_problem)


class _Retryable(Exception):
    pass


class _Unusable(Exception):
    pass


async def _ask(
    http: httpx.AsyncClient,
    platform: PlatformEndpoint,
    payload: dict[str, str],
    headers: dict[str, str],
    timeout_seconds: float,
) -> PlatformWork:
    try:
        async with http.stream(
            "POST", platform.verify_url, json=payload, headers=headers, timeout=timeout_seconds
        ) as response:
            if response.status_code >= 500:
                raise _Retryable(f"answered {response.status_code}")
            if response.status_code != 200:
                raise _Unusable(f"answered {response.status_code}")
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_ANSWER_BYTES:
                    raise _Unusable(f"answer larger than {MAX_ANSWER_BYTES} bytes")
    except httpx.TimeoutException as exc:
        raise _Retryable("timed out") from exc
    except httpx.TransportError as exc:
        raise _Retryable(f"connection failed ({type(exc).__name__})") from exc
    try:
        return VerificationAnswer.model_validate_json(bytes(body)).as_work()
    except ValidationError as exc:
        fields = ", ".join(".".join(map(str, e["loc"])) or "body" for e in exc.errors())
        raise _Unusable(f"answer not in the contract's shape ({fields})") from exc
