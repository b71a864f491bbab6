"""A request whose transaction PostgreSQL aborted as a serialization failure or a deadlock
(SQLSTATE 40001, 40P01) is run again, whole, inside the same HTTP request; after the last
attempt the client gets 503 `transaction_conflict` with `Retry-After`.

Running it again is safe because a request is one transaction (ADR 0001): the abort rolled back
everything it wrote, its Idempotency-Key claim included, and what it asked a partner before its
transaction (a platform's verification) is a read. Bodies are kept in memory to be replayed, up
to the ordinary body limit; the streamed uploads (batch files, gateway bills) are not kept, and
get the 503 at once.

The problem handler (app.core.problems) marks such a 503 with an internal header; this
middleware, inside Starlette's exception handling, sees the mark before anything is sent,
drops that answer and runs the request again, and strips the mark from what it finally sends.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONFLICT_MARK = b"x-mutualaid-transaction-conflict"
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})
ATTEMPTS = 3
_BACKOFF_SECONDS = (0.005, 0.02)  # jittered, growing with the attempt


class ConflictRetryMiddleware:
    def __init__(self, app: ASGIApp, streamed_prefixes: Iterable[str] = ()) -> None:
        self.app = app
        self.streamed_prefixes = tuple(streamed_prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"].startswith(self.streamed_prefixes):
            await self.app(scope, receive, _unmarked(send))
            return
        request = _Request(scope, receive)
        for attempt in range(1, ATTEMPTS + 1):
            if not await request.run(self.app, send, last=attempt == ATTEMPTS):
                return
            low, high = _BACKOFF_SECONDS
            await asyncio.sleep(random.uniform(low, high) * attempt)  # noqa: S311


class _Request:
    """One HTTP request, run as many times as it takes: its body recorded the first time, then
    replayed."""

    def __init__(self, scope: Scope, receive: Receive) -> None:
        self.scope, self.receive = scope, receive
        self.body: list[Message] = []
        self.body_read = False
        self.replay: list[Message] | None = None

    async def _recording_receive(self) -> Message:
        if self.body_read:
            return await self.receive()
        message = await self.receive()
        if message["type"] == "http.request":
            self.body.append(message)
            self.body_read = not message.get("more_body", False)
        return message

    async def run(self, app: ASGIApp, send: Send, *, last: bool) -> bool:
        """Run the request once; whether it met a conflict and must run again."""
        conflicted = False

        async def attempt_send(message: Message) -> None:
            nonlocal conflicted
            if message["type"] == "http.response.start" and _marked(message):
                if not last:
                    conflicted = True
                    return
                message = {**message, "headers": _without_mark(message)}
            if not conflicted:  # else the dropped answer's body
                await send(message)

        receive = _replaying(self.replay, self.receive) if self.replay else self._recording_receive
        await app(self.scope, receive, attempt_send)
        if conflicted and self.replay is None:
            if not self.body_read and self.scope["method"] in ("POST", "PUT", "PATCH"):
                self.body += await _rest(self.receive)  # the handler stopped reading early
            self.replay = self.body or [{"type": "http.request", "body": b"", "more_body": False}]
        return conflicted


def _marked(message: Message) -> bool:
    return any(name == CONFLICT_MARK for name, _ in message.get("headers", []))


def _without_mark(message: Message) -> list[tuple[bytes, bytes]]:
    return [(n, v) for n, v in message.get("headers", []) if n != CONFLICT_MARK]


def _unmarked(send: Send) -> Send:
    async def strip(message: Message) -> None:
        if message["type"] == "http.response.start" and _marked(message):
            message = {**message, "headers": _without_mark(message)}
        await send(message)

    return strip


def _replaying(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay


async def _rest(receive: Receive) -> list[Message]:
    rest: list[Message] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return rest
        rest.append(message)
        if not message.get("more_body", False):
            return rest
