"""RFC 9457 problem+json for every error: ours, validation, routing, and the unexpected.

Clients switch on `code` (stable, snake_case); `title` and `detail` are for people. Validation
errors add `errors: [{code, field, location, message}]`. A 500 says nothing about internals: the
traceback goes to the (PII-redacted) log under the request id the client can quote.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.conflict_retry import CONFLICT_MARK, RETRYABLE_SQLSTATES
from app.core.errors import ServiceError
from app.core.request_context import current_request_id

PROBLEM_MEDIA_TYPE = "application/problem+json"
logger = logging.getLogger("mutualaid.errors")

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
}

# Pydantic error types renamed where the pydantic name is not what an API client expects.
_VALIDATION_CODES = {
    "missing": "required",
    "extra_forbidden": "unknown_field",
    "json_invalid": "invalid_json",
    "model_attributes_type": "invalid_type",
    "dict_type": "invalid_type",
    "model_type": "invalid_type",
}


class FieldError(BaseModel):
    code: str = Field(description="Machine code of what is wrong with this field.")
    field: str = Field(description="Dotted path of the field, e.g. `union.member_number`.")
    location: str = Field(description="`body`, `query`, `path` or `header`.")
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    type: str
    title: str
    status: int
    detail: str | None = None
    code: str = Field(description="Stable machine-readable error code.")
    request_id: str | None = None
    errors: list[FieldError] | None = None


def problem_response(
    status: int,
    code: str,
    title: str,
    detail: str | None = None,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"urn:mutualaid:problem:{code}",
        "title": title,
        "status": status,
        "code": code,
    }
    if detail:
        body["detail"] = detail
    request_id = current_request_id()
    if request_id:
        body["request_id"] = request_id
    body.update(extra)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


def field_error(err: dict[str, Any]) -> dict[str, str]:
    loc = list(err.get("loc", ()))
    location = str(loc.pop(0)) if loc and loc[0] in {"body", "query", "path", "header"} else "body"
    error_type = str(err.get("type", "invalid"))
    return {
        "code": _VALIDATION_CODES.get(error_type, error_type),
        "field": ".".join(str(part) for part in loc) or location,
        "location": location,
        "message": str(err.get("msg", "")),
    }


async def _service_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    return problem_response(
        exc.status, exc.instance_code, exc.title, exc.detail, headers=exc.headers, **exc.extra
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [field_error(e) for e in exc.errors()]
    return problem_response(
        422,
        "validation_error",
        "The request is not valid",
        f"{len(errors)} field(s) failed validation",
        errors=errors,
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    title = code.replace("_", " ").capitalize()
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != title else None
    headers = dict(exc.headers) if exc.headers else None
    return problem_response(exc.status_code, code, title, detail, headers=headers)


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    """A database that is locked (SQLite) or unreachable is a retryable 503, not a crash."""
    logger.warning("database error: %s", type(exc).__name__, exc_info=exc)
    # The driver's message, not the statement (which may name a `locked_until` column).
    busy = "locked" in str(getattr(exc, "orig", exc)).lower()
    return problem_response(
        503,
        "database_busy" if busy else "database_unavailable",
        "Service unavailable",
        "The database is busy; retry shortly." if busy else "The database is not reachable.",
        headers={"Retry-After": "1"},
    )


async def _lost_connection(request: Request, exc: Exception) -> JSONResponse:
    """A connection that died under a statement (the server restarted, the backend was
    terminated, the network cut) is a retryable 503 like an unreachable database: the
    transaction was rolled back with it. So is a transaction PostgreSQL aborted as a
    serialization failure or deadlock, which app.core.conflict_retry first runs again. Any other
    driver error is unexpected: a 500."""
    assert isinstance(exc, DBAPIError)
    if getattr(exc.orig, "sqlstate", None) in RETRYABLE_SQLSTATES:
        logger.info("transaction conflict: %s", getattr(exc.orig, "sqlstate", None))
        response = problem_response(
            503,
            "transaction_conflict",
            "Service unavailable",
            "The request met a concurrent one and was rolled back; retry it.",
            headers={"Retry-After": "1"},
        )
        response.headers[CONFLICT_MARK.decode()] = "1"
        return response
    if not exc.connection_invalidated:
        raise exc
    return await _database_error(request, exc)


def internal_error_response() -> JSONResponse:
    """The 500 every unexpected failure becomes: no internals, only the request id to quote."""
    return problem_response(
        500,
        "internal_error",
        "Internal server error",
        "The error was logged; quote the request id when reporting it.",
    )


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(OperationalError, _database_error)
    app.add_exception_handler(InterfaceError, _database_error)
    app.add_exception_handler(DBAPIError, _lost_connection)
    # Unexpected exceptions are turned into `internal_error_response()` by the request-context
    # middleware, which runs inside Starlette's ServerErrorMiddleware and keeps the request id.
