"""A body in a media type the operation does not take is refused with 415 problem+json.

Without this FastAPI reads such a body as raw bytes and answers 422 about the body's shape,
which tells a client nothing about the real mistake (a `Content-Type` header left out, or CSV
sent where JSON is taken). What each operation takes is read from its route the way the spec
generator reads it (the body's media type, and the `requestBody` an operation documents by
hand), not from the generated spec itself: generating the spec costs about half a second, paid by
every new app on its first request. A test holds the table and the published spec equal; the spec
also gets the 415 it can now answer.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.types import ASGIApp, Receive, Scope, Send

from app.core.openapi_docs import problems
from app.core.problems import PROBLEM_MEDIA_TYPE, problem_response

_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})
_JSON = "application/json"
Taken = list[tuple[re.Pattern[str], frozenset[str], frozenset[str]]]


def media_type(header: str) -> str:
    """`Text/CSV; charset=utf-8` -> `text/csv`."""
    return header.split(";", 1)[0].strip().lower()


def accepts(taken: frozenset[str], given: str) -> bool:
    """Whether a body of media type `given` may go to an operation taking `taken`; JSON also
    under a structured suffix (`application/merge-patch+json`)."""
    return given in taken or (
        _JSON in taken and given.startswith("application/") and given.endswith("+json")
    )


class ContentTypeGuard:
    """Pure ASGI: requests without a body pass untouched, at the cost of one comparison."""

    def __init__(self, app: ASGIApp, api: FastAPI) -> None:
        self.app = app
        self.api = api
        self._taken: Taken | None = None

    def taken(self) -> Taken:
        """Worked out on first use, when every route is mounted."""
        if self._taken is None:
            self._taken = taken_by_routes(self.api)
        return self._taken

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _WITH_BODY:
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        has_body = headers.get(b"content-length", b"0") != b"0" or b"transfer-encoding" in headers
        if has_body:
            given = media_type(headers.get(b"content-type", b"").decode("latin-1"))
            for pattern, methods, taken in self.taken():
                if scope["method"] in methods and pattern.match(scope["path"]):
                    if not accepts(taken, given):
                        response = problem_response(
                            415,
                            "unsupported_media_type",
                            "Unsupported media type",
                            f"this operation takes {' or '.join(sorted(taken))}, "
                            f"not {given or 'a body without a Content-Type'}",
                        )
                        await response(scope, receive, send)
                        return
                    break
        await self.app(scope, receive, send)


def taken_by_routes(api: FastAPI) -> Taken:
    """Each documented operation with a request body: its path as a pattern, its methods and
    the media types it takes, as `fastapi.openapi.utils.get_openapi` would document them."""
    table: Taken = []
    for route in iter_route_contexts(api.routes):  # routers included with their prefixes
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        content: set[str] = set()
        if route.body_field is not None:
            content.add(route.body_field.field_info.media_type)
        extra = (route.openapi_extra or {}).get("requestBody", {}).get("content", {})
        content.update(extra)
        if content:
            table.append((route.path_regex, frozenset(route.methods or ()), frozenset(content)))
    return table


def document_415(spec: dict[str, Any]) -> None:
    """Every operation that takes a body can answer 415: say so in the spec, in place."""
    for path_item in spec.get("paths", {}).values():
        for operation in path_item.values():
            if "requestBody" in operation:
                operation.setdefault("responses", {}).setdefault(
                    "415",
                    {
                        "description": problems(415)[415]["description"],
                        "content": {
                            PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}
                        },
                    },
                )
