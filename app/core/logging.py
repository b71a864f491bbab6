"""Structured JSON logs, one object per line, with the request id and no personal data.

Every field of every line goes through `masking.redact`, whatever logger produced it (ours,
uvicorn's, SQLAlchemy's), so an ID number or phone that slips into a message, a field or a
traceback is masked before it reaches a file. The engine also runs with `hide_parameters=True`
so SQL errors never carry bound values.

Lines are written in batches (`BatchedStreamHandler`): a line a request written and flushed on
its own was the largest cost of the service's most frequent request. A warning or worse is
written at once with everything before it; the rest within a quarter of a second.
"""

from __future__ import annotations

import atexit
import json
import logging
import sys
import threading
from datetime import UTC, datetime
from typing import Any, TextIO

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
            "logger": redact(record.name),
            "msg": redact(record.getMessage()),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_") and value is not None:
                entry[redact(key)] = _redacted(value)
        if record.exc_info:
            entry["exc"] = redact(self.formatException(record.exc_info))
        # Masked field by field, numbers and names included, before encoding: JSON escapes (a
        # "\n" before a number) would hide a number from the patterns after it. Not once more
        # over the whole line: a line carries hex request ids whose digit runs sent every line
        # through the full patterns, the largest cost of the access log.
        return json.dumps(entry, ensure_ascii=False, default=str)


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        text = str(value)
        masked = redact(text)
        return value if masked == text else masked  # a phone number logged as a number
    return redact(str(value))


class BatchedStreamHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes lines to its stream in batches: at once for a warning or worse (with every line
    before it, in order), else when `max_bytes` wait or `interval` seconds have passed, by a
    daemon thread, and at exit. A process killed outright loses at most that interval of
    info lines; its errors were written when they happened."""

    def __init__(
        self, stream: TextIO, *, interval: float = 0.25, max_bytes: int = 64 * 1024
    ) -> None:
        super().__init__(stream)
        self.max_bytes = max_bytes
        self._waiting: list[str] = []
        self._waiting_bytes = 0
        self._stopped = threading.Event()
        self._flusher = threading.Thread(
            target=self._flush_every, args=(interval,), name="log-flusher", daemon=True
        )
        self._flusher.start()
        atexit.register(self.flush)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + self.terminator
        except Exception:
            self.handleError(record)
            return
        # Handler.handle holds self.lock around emit: the flusher thread waits for it.
        self._waiting.append(line)
        self._waiting_bytes += len(line)
        if record.levelno >= logging.WARNING or self._waiting_bytes >= self.max_bytes:
            self._write()

    def flush(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            self._write()

    def close(self) -> None:
        self._stopped.set()
        self.flush()
        super().close()

    def _write(self) -> None:
        if self._waiting:
            lines, self._waiting, self._waiting_bytes = "".join(self._waiting), [], 0
            try:
                self.stream.write(lines)
                self.stream.flush()
            except Exception:
                self.handleError(logging.makeLogRecord({"msg": "log lines not written"}))

    def _flush_every(self, interval: float) -> None:
        while not self._stopped.wait(interval):
            self.flush()


def configure_logging(level: str = "INFO") -> None:
    """Route every logger to one JSON handler on stderr."""
    handler = BatchedStreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for replaced in root.handlers:
        if isinstance(replaced, BatchedStreamHandler):
            replaced.close()  # its waiting lines written, its thread stopped
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # The lines carry none of these: not looking them up makes every record cheaper (the
    # logging HOWTO's "Optimization"; _srcfile = None skips walking the stack for the caller).
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
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
