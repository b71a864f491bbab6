"""A real HTTP server standing in for a platform's webhook receiver, on 127.0.0.1.

It records every request (when it came, headers and raw body) and answers with the statuses it
is told to, in order, then 200 for ever. `hold_first=True` makes it keep the first request
unanswered until `release` is set, as a receiver that hangs would.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOLD_AT_MOST_SECONDS = 120


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: datetime


@dataclass
class Receiver:
    url: str
    statuses: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)


@contextmanager
def running_receiver(*statuses: int, hold_first: bool = False) -> Iterator[Receiver]:
    receiver = Receiver(url="", statuses=list(statuses))
    if not hold_first:
        receiver.release.set()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            with lock:
                receiver.received.append(Received(self.path, headers, body, datetime.now(UTC)))
                first = len(receiver.received) == 1
                status = receiver.statuses.pop(0) if receiver.statuses else 200
            if first:
                receiver.release.wait(timeout=HOLD_AT_MOST_SECONDS)
            try:
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except OSError:
                pass  # the sender is gone

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/mutualaid"
    try:
        yield receiver
    finally:
        receiver.release.set()
        server.shutdown()
        server.server_close()
