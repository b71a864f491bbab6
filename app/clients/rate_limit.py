"""Per-client request rate limit: a token bucket per API client, in each process.

A client may send `MUTUALAID_RATE_LIMIT_BURST` requests at once and then
`MUTUALAID_RATE_LIMIT_PER_SECOND` a second on average; beyond that it gets 429 with a
`Retry-After` saying when the next request would be accepted. The point is to keep one
misbehaving client (a batch job in a retry loop, a partner polling every worker every second)
from taking the capacity every other client shares, not to meter usage exactly.

The buckets live in the process, like the API key cache: with N API processes behind a balancer
a client can reach about N times the limit. Set the limit per process accordingly (the README's
deployment section says how). A shared counter in the database would cost a write per request
on the hottest paths.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

MAX_CLIENTS = 10_000


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass
class RateLimiter:
    per_second: float
    burst: int
    now: Callable[[], float] = time.monotonic
    _buckets: dict[uuid.UUID, _Bucket] = field(default_factory=dict)

    @property
    def enabled(self) -> bool:
        return self.per_second > 0

    def take(self, client_id: uuid.UUID) -> int | None:
        """Spend one token. None when the request may go ahead, else the whole seconds to wait
        (at least 1, as `Retry-After` takes whole seconds)."""
        if not self.enabled:
            return None
        now = self.now()
        bucket = self._buckets.get(client_id)
        if bucket is None:
            if len(self._buckets) >= MAX_CLIENTS:
                self._forget_full_buckets(now)
            bucket = self._buckets[client_id] = _Bucket(tokens=float(self.burst), updated=now)
        else:
            bucket.tokens = min(
                float(self.burst), bucket.tokens + (now - bucket.updated) * self.per_second
            )
            bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return None
        return max(1, math.ceil((1 - bucket.tokens) / self.per_second))

    def _forget_full_buckets(self, now: float) -> None:
        """A bucket that has refilled is the same as no bucket; forgetting it loses nothing."""
        refill_seconds = self.burst / self.per_second
        for client_id, bucket in list(self._buckets.items()):
            if now - bucket.updated >= refill_seconds:
                del self._buckets[client_id]
        if len(self._buckets) >= MAX_CLIENTS:
            self._buckets.clear()
