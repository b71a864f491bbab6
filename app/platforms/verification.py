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
from typing import Any

import httpx
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from app.core.config import Settings
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


def verifier_settings(settings: Settings, *, bulk: bool = False) -> VerifierSettings:
    timeout = settings.platform_bulk_timeout_seconds if bulk else settings.platform_timeout_seconds
    return VerifierSettings(timeout, settings.platform_attempts)


@dataclass(frozen=True)
class PlatformEndpoint:
    code: str
    verify_url: str
    credential: str | None = None
    bulk_verify_url: str | None = None


MAX_ANSWER_BYTES = 64 * 1024
# A bulk answer may be this much larger per worker asked about.
MAX_BULK_ANSWER_BYTES_PER_WORKER = 2 * 1024


@dataclass(frozen=True)
class WorkerToVerify:
    platform_worker_id: str
    id_number: str
    name: str


async def verify_worker(
    http: httpx.AsyncClient,
    platform: PlatformEndpoint,
    *,
    platform_worker_id: str,
    id_number: str,
    name: str,
    settings: VerifierSettings | None = None,
) -> PlatformWork | Unavailable:
    """Ask the platform about one worker."""
    payload = {"platform_worker_id": platform_worker_id, "id_number": id_number, "name": name}
    body = await _call(http, platform, platform.verify_url, payload, MAX_ANSWER_BYTES, settings)
    if isinstance(body, Unavailable):
        return body
    try:
        return VerificationAnswer.model_validate_json(body).as_work()
    except ValidationError as exc:
        return _unusable(platform, exc)


class _BulkAnswer(VerificationAnswer):
    platform_worker_id: str


class _BulkAnswers(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    results: list[_BulkAnswer]


async def verify_workers(
    http: httpx.AsyncClient,
    platform: PlatformEndpoint,
    workers: list[WorkerToVerify],
    settings: VerifierSettings | None = None,
    concurrency: int = 8,
) -> dict[str, PlatformWork | Unavailable]:
    """Ask about many workers: in one call when the platform offers bulk verification, else one
    call each, at most `concurrency` at a time. Every worker asked about gets an answer; a worker
    the platform left out of its bulk answer is unavailable, never verified."""
    if not workers:
        return {}
    if platform.bulk_verify_url is None:
        gate = asyncio.Semaphore(concurrency)

        async def one(worker: WorkerToVerify) -> PlatformWork | Unavailable:
            async with gate:
                return await verify_worker(
                    http,
                    platform,
                    platform_worker_id=worker.platform_worker_id,
                    id_number=worker.id_number,
                    name=worker.name,
                    settings=settings,
                )

        answers = await asyncio.gather(*(one(w) for w in workers))
        return {w.platform_worker_id: a for w, a in zip(workers, answers, strict=True)}
    payload = {"workers": [w.__dict__ for w in workers]}
    limit = MAX_ANSWER_BYTES + MAX_BULK_ANSWER_BYTES_PER_WORKER * len(workers)
    body = await _call(http, platform, platform.bulk_verify_url, payload, limit, settings)
    results: dict[str, PlatformWork | Unavailable] = {}
    if isinstance(body, Unavailable):
        return dict.fromkeys((w.platform_worker_id for w in workers), body)
    try:
        parsed = _BulkAnswers.model_validate_json(body)
    except ValidationError as exc:
        problem = _unusable(platform, exc)
        return dict.fromkeys((w.platform_worker_id for w in workers), problem)
    for answer in parsed.results:
        results.setdefault(answer.platform_worker_id, answer.as_work())
    missing = Unavailable("the platform's bulk answer left this worker out")
    return {w.platform_worker_id: results.get(w.platform_worker_id, missing) for w in workers}


def _unusable(platform: PlatformEndpoint, exc: ValidationError) -> Unavailable:
    fields = ", ".join(".".join(map(str, e["loc"])) or "body" for e in exc.errors()[:5])
    problem = f"answer not in the contract's shape ({fields})"
    logger.warning("platform %s gave an unusable answer: %s", platform.code, problem)
    return Unavailable(problem)


async def _call(
    http: httpx.AsyncClient,
    platform: PlatformEndpoint,
    url: str,
    payload: dict[str, Any],
    max_bytes: int,
    settings: VerifierSettings | None,
) -> bytes | Unavailable:
    """POST, within a hard deadline per attempt (httpx's own timeout is per read, and a
    platform trickling bytes would never trip it), with retries for timeouts, connection
    failures and 5xx answers."""
    settings = settings or VerifierSettings()
    headers = {"Authorization": f"Bearer {platform.credential}"} if platform.credential else {}
    last_problem = "no attempt made"
    for attempt in range(1, settings.attempts + 1):
        try:
            async with asyncio.timeout(settings.timeout_seconds):
                return await _post(http, url, payload, headers, settings.timeout_seconds, max_bytes)
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


async def _post(
    http: httpx.AsyncClient,
    url: str,
    payload: dict[str, Any],
    headers: dict[str, str],
    timeout_seconds: float,
    max_bytes: int,
) -> bytes:
    try:
        async with http.stream(
            "POST", url, json=payload, headers=headers, timeout=timeout_seconds
        ) as response:
            if response.status_code >= 500:
                raise _Retryable(f"answered {response.status_code}")
            if response.status_code != 200:
                raise _Unusable(f"answered {response.status_code}")
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > max_bytes:
                    raise _Unusable(f"answer larger than {max_bytes} bytes")
    except httpx.TimeoutException as exc:
        raise _Retryable("timed out") from exc
    except httpx.TransportError as exc:
        raise _Retryable(f"connection failed ({type(exc).__name__})") from exc
    return bytes(body)
