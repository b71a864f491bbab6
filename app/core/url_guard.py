"""Refuse a URL holding a NUL character (422 `nul_in_url`) before any route reads it.

PostgreSQL text cannot hold NUL: a path or query parameter carrying one would fail inside the
driver and surface as a server error, and on SQLite it would be looked up as given. No valid
request needs one, so it is refused in one place for every route, on both databases alike.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from app.core.problems import problem_response


class NulInUrlMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (
            "\x00" in scope["path"] or b"%00" in scope["query_string"].lower()
        ):
            response = problem_response(
                422,
                "nul_in_url",
                "The request cannot be processed",
                "The URL must not contain NUL characters.",
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
