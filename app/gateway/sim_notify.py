"""The simulated gateway's signed notifications to the service, one at a time, in order.

One queue and one sender: a `returned` is never delivered before the `succeeded` it follows, and
a test that sees a later notification arrive knows every earlier one was sent. A notification the
service cannot take (refused connection, timeout, 5xx) is tried a few more times with backoff, as
a real gateway retries; a 4xx is the service's answer and is not repeated.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

import httpx

from app.core.signing import signature_header

logger = logging.getLogger(__name__)

ATTEMPTS = 5
TIMEOUT_SECONDS = 5.0


@dataclass
class Sent:
    path: str
    body: dict[str, Any]
    answered: int | None = None


class Notifier:
    def __init__(
        self,
        base_url: str,
        secret: bytes,
        transport: httpx.AsyncBaseTransport | None = None,
        backoff_seconds: float = 0.2,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._secret = secret
        self._transport = transport
        self._backoff_seconds = backoff_seconds
        self._queue: asyncio.Queue[Sent] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.sent: list[Sent] = []

    def send(self, path: str, body: dict[str, Any]) -> None:
        """Queue a notification; the sender starts with the first one (no lifespan needed, so
        the simulator also works behind httpx's ASGI transport)."""
        item = Sent(path, body)
        self.sent.append(item)
        self._queue.put_nowait(item)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        async with httpx.AsyncClient(transport=self._transport, timeout=TIMEOUT_SECONDS) as http:
            while True:
                item = await self._queue.get()
                item.answered = await self._deliver(http, item)

    async def _deliver(self, http: httpx.AsyncClient, item: Sent) -> int | None:
        raw = json.dumps(item.body).encode()
        answered: int | None = None
        for attempt in range(ATTEMPTS):
            if attempt:
                await asyncio.sleep(self._backoff_seconds * 2 ** (attempt - 1))
            headers = {
                "Content-Type": "application/json",
                "X-Signature": signature_header(self._secret, int(time.time()), raw),
            }
            try:
                response = await http.post(self._base_url + item.path, content=raw, headers=headers)
            except httpx.HTTPError as exc:
                logger.warning("notification %s not delivered: %s", item.path, type(exc).__name__)
                continue
            answered = response.status_code
            if answered < 500:
                return answered
        return answered
