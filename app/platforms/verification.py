"""Asking a platform whether someone really works through it (design section 5, outbound).

`POST {verify_url}` with `{platform_worker_id, id_number, name}` answers
`{registered, city, work_type, last_order_at, orders_last_7_days}`. The call has a short timeout
and a few retries with backoff for timeouts, connection errors and 5xx answers. Anything else
unusable (4xx, not JSON, missing or mistyped fields) is "unavailable": the application then
waits for a person to check the uploaded proof (`pending_review`). An unavailable platform must
never crash an application, and never verify a worker by default.

Each platform has a circuit breaker (`app.breakers`, ADR 0009): every attempt asks it first, and
a platform that keeps timing out or failing is not called at all for a while, its workers
unavailable at once instead of after every attempt's timeout. A caller with a deadline (a batch
chunk's time budget) starts no attempt after it: those workers are `NotAsked`, to be asked later.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

import httpx
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from app.breakers.models import BreakerState
from app.breakers.service import ASK, Breaker, BreakerSettings, Ticket
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
class NotAsked(Unavailable):
    """The deadline passed before this worker's turn (or its next attempt): ask again later."""


CIRCUIT_OPEN = Unavailable("not asked: the platform has been failing (its breaker is open)")
PAST_DEADLINE = NotAsked("not asked within the time budget")
BREAKER_PARTNER = "platform"
# The probe of a half-open breaker is one attempt: this many of its timeouts before another
# process may probe instead.
PROBE_LEASE_TIMEOUTS = 2


@dataclass(frozen=True)
class VerifierSettings:
    timeout_seconds: float = 3.0
    attempts: int = 3
    backoff_seconds: float = 0.2


def verifier_settings(settings: Settings, *, bulk: bool = False) -> VerifierSettings:
    timeout = settings.platform_bulk_timeout_seconds if bulk else settings.platform_timeout_seconds
    return VerifierSettings(timeout, settings.platform_attempts)


def breaker_settings(settings: Settings) -> BreakerSettings:
    longest = max(settings.platform_timeout_seconds, settings.platform_bulk_timeout_seconds)
    return BreakerSettings(
        threshold=settings.platform_breaker_threshold,
        cooldown_seconds=settings.platform_breaker_cooldown_seconds,
        probe_lease_seconds=longest * PROBE_LEASE_TIMEOUTS,
    )


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
    """Ask the platform about one worker, without a breaker or a deadline."""
    worker = WorkerToVerify(platform_worker_id, id_number, name)
    return await Verifier(http, platform, settings or VerifierSettings()).one(worker)


class _BulkAnswer(VerificationAnswer):
    platform_worker_id: str


class _BulkAnswers(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    results: list[_BulkAnswer]


Answers = dict[str, PlatformWork | Unavailable]


@dataclass(frozen=True)
class Verifier:
    """How one platform is asked: within its limits, through its breaker, and starting no
    attempt after `deadline` (the event loop's clock; None: no deadline)."""

    http: httpx.AsyncClient
    platform: PlatformEndpoint
    settings: VerifierSettings = field(default_factory=VerifierSettings)
    breaker: Breaker | None = None
    deadline: float | None = None

    async def one(self, worker: WorkerToVerify) -> PlatformWork | Unavailable:
        """Ask about one worker."""
        body = await self._call(self.platform.verify_url, worker.__dict__, MAX_ANSWER_BYTES)
        if isinstance(body, Unavailable):
            return body
        try:
            return VerificationAnswer.model_validate_json(body).as_work()
        except ValidationError as exc:
            return _unusable(self.platform, exc)

    async def many(self, workers: list[WorkerToVerify], concurrency: int = 8) -> Answers:
        """Ask about many workers: in one call when the platform offers bulk verification, else
        one call each, at most `concurrency` at a time. Every worker asked about gets an answer;
        a worker the platform left out of its bulk answer is unavailable, never verified."""
        if not workers:
            return {}
        if self.platform.bulk_verify_url is not None:
            return await self._bulk(self.platform.bulk_verify_url, workers)
        answers: Answers = {}
        if self.breaker is not None and self.breaker.state != BreakerState.CLOSED:
            # One worker first, alone: the probe once the cool-down has passed. The others
            # are asked after it has closed the breaker, or are unavailable at once.
            first, workers = workers[0], workers[1:]
            answers[first.platform_worker_id] = await self.one(first)
        gate = asyncio.Semaphore(concurrency)

        async def one(worker: WorkerToVerify) -> PlatformWork | Unavailable:
            async with gate:
                return await self.one(worker)

        found = await asyncio.gather(*(one(w) for w in workers))
        return answers | {w.platform_worker_id: a for w, a in zip(workers, found, strict=True)}

    async def _bulk(self, url: str, workers: list[WorkerToVerify]) -> Answers:
        payload = {"workers": [w.__dict__ for w in workers]}
        limit = MAX_ANSWER_BYTES + MAX_BULK_ANSWER_BYTES_PER_WORKER * len(workers)
        body = await self._call(url, payload, limit)
        results: Answers = {}
        if isinstance(body, Unavailable):
            return dict.fromkeys((w.platform_worker_id for w in workers), body)
        try:
            parsed = _BulkAnswers.model_validate_json(body)
        except ValidationError as exc:
            problem = _unusable(self.platform, exc)
            return dict.fromkeys((w.platform_worker_id for w in workers), problem)
        for answer in parsed.results:
            results.setdefault(answer.platform_worker_id, answer.as_work())
        missing = Unavailable("the platform's bulk answer left this worker out")
        return {w.platform_worker_id: results.get(w.platform_worker_id, missing) for w in workers}

    async def _call(self, url: str, payload: dict[str, Any], max_bytes: int) -> bytes | Unavailable:
        """POST, with retries for timeouts, connection failures and 5xx answers, each attempt
        let through by the breaker and started before the deadline."""
        settings = self.settings
        last_problem = "no attempt made"
        for attempt in range(1, settings.attempts + 1):
            if self.deadline is not None and asyncio.get_running_loop().time() >= self.deadline:
                return PAST_DEADLINE
            ticket = await self.breaker.allow() if self.breaker is not None else ASK
            if ticket is None:
                return CIRCUIT_OPEN
            outcome = await self._attempt(url, payload, max_bytes, ticket)
            if not isinstance(outcome, str):
                return outcome
            last_problem = outcome
            if attempt < settings.attempts:
                await asyncio.sleep(settings.backoff_seconds * 2 ** (attempt - 1))
        logger.warning(
            "platform %s unavailable after %d attempts: %s",
            self.platform.code,
            settings.attempts,
            last_problem,
        )
        return Unavailable(last_problem)

    async def _attempt(
        self, url: str, payload: dict[str, Any], max_bytes: int, ticket: Ticket
    ) -> bytes | Unavailable | str:
        """One POST within a hard deadline (httpx's own timeout is per read, and a platform
        trickling bytes would never trip it): the body, an unusable answer, or the problem
        worth another attempt (told to the breaker)."""
        credential = self.platform.credential
        headers = {"Authorization": f"Bearer {credential}"} if credential else {}
        timeout = self.settings.timeout_seconds
        try:
            async with asyncio.timeout(timeout):
                body = await _post(self.http, url, payload, headers, timeout, max_bytes)
        except (TimeoutError, _Retryable) as exc:
            if self.breaker is not None:
                await self.breaker.failed(ticket)
            return "timed out" if isinstance(exc, TimeoutError) else str(exc)
        except _Unusable as exc:
            if self.breaker is not None:
                await self.breaker.succeeded(ticket)
            logger.warning("platform %s gave an unusable answer: %s", self.platform.code, exc)
            return Unavailable(str(exc))
        if self.breaker is not None:
            await self.breaker.succeeded(ticket)
        return body


def _unusable(platform: PlatformEndpoint, exc: ValidationError) -> Unavailable:
    fields = ", ".join(".".join(map(str, e["loc"])) or "body" for e in exc.errors()[:5])
    problem = f"answer not in the contract's shape ({fields})"
    logger.warning("platform %s gave an unusable answer: %s", platform.code, problem)
    return Unavailable(problem)


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
