"""Business and request errors, each carrying its HTTP status and a stable machine code.

A refused claim or enrolment decision is a normal value, not an error; these exceptions are for
requests that cannot be served (bad input, missing rights, conflicts). One handler in
`app.core.problems` turns every one of them into RFC 9457 problem+json.
"""

from __future__ import annotations

from typing import Any, ClassVar


class ServiceError(Exception):
    """Base of every error the API reports on purpose."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    title: ClassVar[str] = "Bad request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        self.detail = detail or self.title
        self.instance_code = code or self.code
        self.headers = headers or {}
        self.extra = extra
        super().__init__(self.detail)


class BadRequest(ServiceError):
    status = 400
    code = "bad_request"
    title = "Bad request"


class Unauthorized(ServiceError):
    status = 401
    code = "unauthorized"
    title = "Missing or invalid API key"

    def __init__(self, detail: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": 'Bearer realm="mutualaid"'})
        super().__init__(detail, **kwargs)


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"
    title = "This client's role may not do this"


class NotFound(ServiceError):
    """Also what another tenant's object looks like: its existence is not revealed."""

    status = 404
    code = "not_found"
    title = "Not found"


class Conflict(ServiceError):
    status = 409
    code = "conflict"
    title = "Conflict"


class Unprocessable(ServiceError):
    """The request is well-formed but the business rules refuse it."""

    status = 422
    code = "unprocessable"
    title = "The request cannot be processed"


class PayloadTooLarge(ServiceError):
    status = 413
    code = "payload_too_large"
    title = "Request body too large"


class UnsupportedMediaType(ServiceError):
    status = 415
    code = "unsupported_media_type"
    title = "Unsupported content type"


class TooManyRequests(ServiceError):
    status = 429
    code = "rate_limited"
    title = "Too many requests"

    def __init__(self, retry_after_seconds: int, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"Retry-After": str(retry_after_seconds)})
        super().__init__(
            f"this client is over its request rate; retry in {retry_after_seconds} s", **kwargs
        )


class ServiceUnavailable(ServiceError):
    status = 503
    code = "service_unavailable"
    title = "Service unavailable"
