"""Documented error responses, so the published spec matches what the service really answers."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from app.core.problems import Problem

_DESCRIPTIONS = {
    400: "Malformed request: a body that cannot be read as declared, or a cursor this endpoint "
    "did not give out",
    401: "Missing, unknown or revoked API key",
    403: "The client's role may not do this",
    404: "Not found (also another tenant's object)",
    409: "Conflict",
    413: "Request body too large",
    415: "Unsupported content type",
    422: "Invalid request or refused by the plan's rules",
    429: "Over this client's request rate; `Retry-After` says in how many seconds to retry",
    500: "Unexpected error (no internals; quote the request id)",
    503: "Database unavailable or not ready; retry after `Retry-After` seconds",
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries for problem+json errors with these statuses."""
    return {
        status: {
            "description": _DESCRIPTIONS.get(status, "Error"),
            "model": Problem,  # moved to application/problem+json by app.main._openapi
            **({"headers": _RETRY_AFTER} if status in (429, 503) else {}),
        }
        for status in statuses
    }


_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again",
        "schema": {"type": "integer", "minimum": 1},
    }
}

# Every authenticated route can answer these.
AUTHENTICATED = problems(400, 401, 403, 422, 429, 500, 503)

# What a route the payment gateway signs (app.core.signing) can answer: it takes no API key, so
# its 401 is about the signature.
SIGNED = problems(404, 422, 500, 503) | {
    401: {
        "description": "`X-Signature` missing, malformed, stale (over 300 s) or not made with "
        "the gateway's secret",
        "model": Problem,
    }
}


def signed_json_body(model: type[BaseModel]) -> dict[str, Any]:
    """`openapi_extra=` for a route that verifies the signature over its raw body before reading
    it as `model`: the header is declared here because the route reads it itself, to answer 401
    (not FastAPI's 422) when it is missing."""
    return {
        "parameters": [
            {
                "name": "X-Signature",
                "in": "header",
                "required": True,
                "description": '`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` '
                "with the gateway's secret; during a secret rotation `v1=` may appear once per "
                "secret.",
                "schema": {"type": "string"},
                "example": "t=1764561600,"
                "v1=9c4f0b1e6a2d47c3b5e8f1a0d2c4e6f8a1b3c5d7e9f0a2b4c6d8e0f1a3b5c7d9",
            }
        ],
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": model.model_json_schema()}},
        },
    }


# Schemas referenced by hand-written request bodies, merged into the spec's components.
EXTRA_SCHEMAS: dict[str, dict[str, Any]] = {}


def json_or_csv_body(model: type[BaseModel], csv_description: str) -> dict[str, Any]:
    """`openapi_extra=` for an endpoint that reads its own body: JSON shaped like `model`, or a
    CSV file. FastAPI cannot declare two media types for one body."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    EXTRA_SCHEMAS.update(schema.pop("$defs", {}))
    EXTRA_SCHEMAS[model.__name__] = schema
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}},
                "text/csv": {
                    "schema": {"type": "string", "description": csv_description},
                },
            },
        }
    }
