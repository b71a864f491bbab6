"""Per-request context (request id, calling client) readable from logs and error handlers."""

from __future__ import annotations

from contextvars import ContextVar

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
_client_id: ContextVar[str | None] = ContextVar("client_id", default=None)


def current_request_id() -> str | None:
    return _request_id.get()


def current_client_id() -> str | None:
    return _client_id.get()


def set_request_id(value: str | None) -> object:
    return _request_id.set(value)


def reset_request_id(token: object) -> None:
    _request_id.reset(token)  # type: ignore[arg-type]


def set_client_id(value: str | None) -> None:
    _client_id.set(value)
