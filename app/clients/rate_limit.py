"""Per-client request rate limits, by kind of client: a token bucket per API client, in each
process.

A client may send `BURST_SECONDS` seconds' worth of requests at once and then its rate a second
on average; beyond that it gets 429 with a `Retry-After` saying when the next request would be
accepted. Its rate is its own where one was set for it (`mutualaid clients create --rate-limit`,
`PATCH /v1/clients/{id}`), else its role's: a delivery platform asks about a worker before every
order it dispatches, so platforms get far more than a government app's back office or a union's
batch tool (`ROLE_RATE_LIMITS`, overridden per role by `MUTUALAID_RATE_LIMITS`). The point is
to keep one misbehaving client (a batch job in a retry loop, a partner polling every worker
every second) from taking the capacity every other client shares, not to meter usage exactly.

Every authenticated answer says where its client stands: `X-RateLimit-Limit` (requests a second),
`X-RateLimit-Remaining` (requests it may send at once now) and `X-RateLimit-Reset` (seconds until
it may burst in full again).

The buckets live in the process, like the API key cache: with N API processes behind a balancer
a client can reach about N times its rate. A shared counter in the database would cost a write
per request on the hottest paths.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from app.core.policy import Caller, Role

MAX_CLIENTS = 10_000
BURST_SECONDS = 4

# Requests a second per client and API process, by role.
ROLE_RATE_LIMITS: Mapping[Role, int] = {
    # A look-up before each dispatched order, across a platform's whole fleet of riders.
    Role.PLATFORM: 1000,
    # One back office for every worker using the government app.
    Role.CITIZEN_APP: 50,
    # Batches are one request each; listing and reports page through.
    Role.UNION: 20,
    Role.EXAMINER: 20,
    Role.FINANCE: 20,
    Role.ADMIN: 20,
}

HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


@dataclass(frozen=True, slots=True)
class Standing:
    """Where a client stands after asking for one request."""

    limit: int
    remaining: int
    reset_seconds: int
    # None: the request goes ahead; else the whole seconds to wait (at least 1).
    retry_after: int | None

    def headers(self) -> list[tuple[bytes, bytes]]:
        values = (self.limit, self.remaining, self.reset_seconds)
        return [(n.lower().encode(), str(v).encode()) for n, v in zip(HEADERS, values, strict=True)]


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass
class RateLimiter:
    enabled: bool = True
    # Over ROLE_RATE_LIMITS.
    by_role: Mapping[Role, int] = field(default_factory=dict)
    now: Callable[[], float] = time.monotonic
    _buckets: dict[uuid.UUID, _Bucket] = field(default_factory=dict)

    def rate_for(self, caller: Caller) -> int:
        """The caller's own rate, else its role's."""
        if caller.rate_limit_per_second is not None:
            return caller.rate_limit_per_second
        return self.by_role.get(caller.role, ROLE_RATE_LIMITS[caller.role])

    def take(self, caller: Caller) -> Standing | None:
        """Spend one of the caller's tokens. None when limits are off."""
        if not self.enabled:
            return None
        rate = self.rate_for(caller)
        burst = float(rate * BURST_SECONDS)
        now = self.now()
        bucket = self._buckets.get(caller.client_id)
        if bucket is None:
            if len(self._buckets) >= MAX_CLIENTS:
                self._forget_full_buckets(now)
            bucket = self._buckets[caller.client_id] = _Bucket(tokens=burst, updated=now)
        else:
            bucket.tokens = min(burst, bucket.tokens + (now - bucket.updated) * rate)
            bucket.updated = now
        retry_after = None
        if bucket.tokens >= 1:
            bucket.tokens -= 1
        else:
            retry_after = max(1, math.ceil((1 - bucket.tokens) / rate))
        return Standing(
            limit=rate,
            remaining=int(bucket.tokens),
            reset_seconds=math.ceil((burst - bucket.tokens) / rate),
            retry_after=retry_after,
        )

    def _forget_full_buckets(self, now: float) -> None:
        """A bucket that has refilled is the same as no bucket; forgetting it loses nothing.
        No bucket takes longer than BURST_SECONDS to refill, whatever its rate."""
        for client_id, bucket in list(self._buckets.items()):
            if now - bucket.updated >= BURST_SECONDS:
                del self._buckets[client_id]
        if len(self._buckets) >= MAX_CLIENTS:
            self._buckets.clear()
