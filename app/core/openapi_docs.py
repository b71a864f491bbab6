"""Documented error responses, so the published spec matches what the service really answers."""

from __future__ import annotations

from typing import Any

from app.core.problems import Problem

_DESCRIPTIONS = {
    400: "Bad request",
    401: "Missing, unknown or revoked API key",
    403: "The client's role may not do this",
    404: "Not found (also another tenant's object)",
    409: "Conflict",
    422: "Invalid request or refused by the plan's rules",
    500: "Unexpected error (no internals; quote the request id)",
    503: "Not ready",
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries for problem+json errors with these statuses."""
    return {
        status: {
            "description": _DESCRIPTIONS.get(status, "Error"),
            "model": Problem,  # moved to application/problem+json by app.main._openapi
        }
        for status in statuses
    }


# Every authenticated route can answer these.
AUTHENTICATED = problems(401, 403, 422, 500)
