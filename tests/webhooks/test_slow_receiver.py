"""A receiver that answers a byte at a time must not hold the job worker."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time

from tests.support.webhooks import pay_for_cover, register


def _dripping_server(stop: threading.Event) -> int:
    """Answers every request with a status line, then one header line every 0.5 s, for ever."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.2)

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            conn.recv(65536)
            try:
                conn.sendall(b"HTTP/1.1 200 OK\r\n")
                while not stop.is_set():
                    conn.sendall(b"X-Slow: y\r\n")
                    time.sleep(0.5)
            except OSError:
                pass
            finally:
                conn.close()
        listener.close()

    threading.Thread(target=serve, daemon=True).start()
    return listener.getsockname()[1]


async def test_one_delivery_attempt_is_bounded_by_the_webhook_timeout(
    http, citizen, delivery, run_jobs
):
    """`MUTUALAID_WEBHOOK_TIMEOUT_SECONDS` (2 s here) bounds the whole attempt, not each read:
    a receiver that keeps sending header lines must not hold the job worker (on SQLite, the
    only one) for ever."""
    stop = threading.Event()
    port = _dripping_server(stop)
    try:
        await register(http, delivery, f"http://127.0.0.1:{port}/hook")
        await pay_for_cover(http, citizen)
        started = time.monotonic()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(run_jobs(limit=1), timeout=12)
        took = time.monotonic() - started
    finally:
        stop.set()

    assert took < 8, f"one attempt took {took:.0f} s with a 2 s timeout"
