"""A platform that accepts every connection, reads the request and never answers (nor closes),
on 127.0.0.1, counting the requests it holds by path."""

from __future__ import annotations

import socket
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

READ_TIMEOUT_SECONDS = 5
BACKLOG = 64


@dataclass
class HangingServer:
    url: str = ""
    paths: Counter[str] = field(default_factory=Counter)
    held: list[socket.socket] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def requests(self, path: str) -> int:
        with self.lock:
            return self.paths[path]


@contextmanager
def hanging_server() -> Iterator[HangingServer]:
    server = HangingServer()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(BACKLOG)
    listener.settimeout(0.1)
    stop = threading.Event()

    def read_request_line(conn: socket.socket) -> None:
        conn.settimeout(READ_TIMEOUT_SECONDS)
        data = b""
        try:
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
        except OSError:
            pass
        parts = data.split(b"\r\n", 1)[0].split()
        with server.lock:
            server.paths[parts[1].decode() if len(parts) > 1 else "?"] += 1

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with server.lock:
                server.held.append(conn)
            threading.Thread(target=read_request_line, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    try:
        yield server
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()
        for conn in server.held:
            conn.close()
