"""Request ids, the access log, and the last line of defence for unexpected errors.

A pure ASGI middleware (no BaseHTTPMiddleware) so that it wraps streaming responses correctly and
sits outside every route: each response carries `X-Request-ID`, each log line the same id, and an
unhandled exception becomes a problem+json 500 that still carries the id.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.masking import redact
from app.core.metrics import HTTP_LATENCY, HTTP_REQUESTS
from app.core.problems import internal_error_response
from app.core.request_context import reset_request_id, set_client_id, set_request_id

API_PREFIX = "/v1"
UNMATCHED = "<unmatched>"
CLIENT_CLOSED_REQUEST = 499  # as nginx logs it
# Metric labels are a fixed set: a method a client makes up must not become a new series.
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
REQUEST_ID_HEADER = "x-request-id"
_VALID_INCOMING = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
access_logger = logging.getLogger("mutualaid.access")
error_logger = logging.getLogger("mutualaid.errors")


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, REQUEST_ID_HEADER)
        request_id = incoming if incoming and _VALID_INCOMING.match(incoming) else new_request_id()
        token = set_request_id(request_id)
        set_client_id(None)
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER.encode(), request_id.encode()))
                standing = scope.get("state", {}).get("rate_standing")
                if standing is not None:  # set by authentication (`app.clients.rate_limit`)
                    headers.extend(standing.headers())
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except asyncio.CancelledError:
            if not response_started:
                status = CLIENT_CLOSED_REQUEST  # the client went away; not a server error
            raise
        except Exception as exc:
            error_logger.error("unhandled error", exc_info=exc)
            if response_started:
                raise
            await internal_error_response()(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            method, route = scope["method"], _route_template(scope)
            label = method if method in _KNOWN_METHODS else "other"
            HTTP_REQUESTS.labels(label, route, str(status)).inc()
            HTTP_LATENCY.labels(label, route).observe(seconds)
            access_logger.info(
                "request",
                extra={
                    "method": method,
                    "route": route,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 2),
                },
            )
            reset_request_id(token)


def new_request_id() -> str:
    """A random id the log redaction leaves alone. A hex UUID holds a run of 11 digits that reads
    as a mobile number about once in several hundred ids, and would be masked in the logs, where
    the id is the one thing an operator searches for; such an id is drawn again."""
    while True:
        candidate = uuid.uuid4().hex
        if redact(candidate) == candidate:
            return candidate


def _route_template(scope: Scope) -> str:
    """`/v1/claims/{claim_id}`, never the concrete path: ids must not become log fields or
    metric labels. The matched route of an included router knows only its own part of the
    path, so the version prefix is put back here."""
    path = getattr(scope.get("route"), "path", None)
    if not isinstance(path, str) or not path:
        return UNMATCHED
    if scope["path"].startswith(API_PREFIX + "/") and not path.startswith(API_PREFIX + "/"):
        return API_PREFIX + path
    return path


def _header(scope: Scope, name: str) -> str | None:
    wanted = name.encode()
    for key, value in scope.get("headers", []):
        if key.lower() == wanted:
            return str(value.decode("latin-1"))
    return None
