"""How many uploads one process reads at once.

An upload is read and sealed as it arrives, so each one in progress holds about its own
size in memory at most (`app.batches.staging`); a process reading a few at a time stays
within a known bound. One more is answered 503 `too_many_uploads` with `Retry-After` before any
of its body is read: the union's client sends it again a moment later, to this process or
another.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from app.core.errors import ServiceUnavailable

# About the time the largest upload takes to read and seal.
RETRY_AFTER_SECONDS = 5


class UploadSlots:
    """A count, not a lock: the event loop runs one coroutine at a time."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.busy = 0

    @contextmanager
    def slot(self) -> Iterator[None]:
        if self.busy >= self.limit:
            raise ServiceUnavailable(
                f"this process is reading {self.limit} uploads already; send it again in "
                f"{RETRY_AFTER_SECONDS} s",
                code="too_many_uploads",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        self.busy += 1
        try:
            yield
        finally:
            self.busy -= 1
