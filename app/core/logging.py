"""Structured JSON logs, one object per line, with the request id and no personal data.

Every line goes through `masking.redact`, whatever logger produced it (ours, uvicorn's,
SQLAlchemy's), so an ID number or phone that slips into a message or a traceback is masked before
it reaches a file. The engine also runs with `hide_parameters=True` so SQL errors never carry
bound values.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from app.core.masking import redact
from app.core.request_context import current_client_id, current_request_id

_STANDARD_ATTRS = set(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None).__dict__) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}


def _install_context_record_factory() -> None:
    """Stamp the request and client ids on each record when it is created, not when it is
    formatted: a record formatted later (queued handlers, test capture) keeps its request."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "_mutualaid", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.request_id = current_request_id()
        record.client_id = current_client_id()
        return record

    factory._mutualaid = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


_install_context_record_factory()


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": redact(record.getMessage()),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_") and value is not None:
                entry[key] = _redacted(value)
        if record.exc_info:
            entry["exc"] = redact(self.formatException(record.exc_info))
        # Masked field by field before encoding: JSON escapes (a "\n" before a number) would
        # otherwise hide a number from the patterns; then once more over the whole line.
        return redact(json.dumps(entry, ensure_ascii=False, default=str))


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, int | float | bool) or value is None:
        return value
    return redact(str(value))


def configure_logging(level: str = "INFO") -> None:
    """Route every logger to one JSON handler on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uv_logger = logging.getLogger(name)
        uv_logger.handlers[:] = []
        uv_logger.propagate = True
    # Our middleware writes the access log (route template, not raw path: no ids from the URL).
    logging.getLogger("uvicorn.access").disabled = True
    quiet_outbound_url_logs()


def quiet_outbound_url_logs() -> None:
    """httpx logs every request's full URL at INFO; URLs are not ours to vouch for."""
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
