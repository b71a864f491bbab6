"""A small HTTP/1.1 load generator: N keep-alive connections, each sending its next request as
soon as the last answer is in. Written on asyncio streams so that the generator, which shares
the machine's two cores with the service, spends as little CPU as it can; the same generator
drives every endpoint compared in one run."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class LoadResult:
    requests: int = 0
    seconds: float = 0.0
    statuses: Counter[int] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile_ms(self, p: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(len(ordered) * p))] * 1000


def post(path: str, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: bench", "Content-Type: application/json"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def get(path: str, headers: dict[str, str]) -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: bench"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, await reader.readexactly(length)


async def run_load(
    host: str,
    port: int,
    request: Callable[[int], bytes],
    *,
    connections: int,
    seconds: float,
    keep_bodies: bool = False,
) -> LoadResult:
    """Send `request(n)` for n = 0, 1, ... over `connections` connections for `seconds`."""
    result = LoadResult()
    numbers = itertools.count()
    deadline = time.perf_counter() + seconds

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while time.perf_counter() < deadline:
                payload = request(next(numbers))
                started = time.perf_counter()
                writer.write(payload)
                status, body = await _read_response(reader)
                result.latencies.append(time.perf_counter() - started)
                result.statuses[status] += 1
                if keep_bodies:
                    result.bodies.append(body)
        finally:
            writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(connections)))
    result.seconds = time.perf_counter() - began
    result.requests = sum(result.statuses.values())
    return result
