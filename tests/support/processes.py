"""Real `mutualaid` processes (server, worker, platform simulator) on a free local port, for the
integration tests: their environment, starting them, killing them on the way out, and waiting
for them."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

CLI = [sys.executable, "-m", "app.cli"]
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def environment(settings) -> dict[str, str]:
    return dict(os.environ) | {
        "DATABASE_URL": settings.database_url,
        "DATA_KEY": settings.data_key.get_secret_value(),
        "LOOKUP_KEY": settings.lookup_key.get_secret_value(),
        "MUTUALAID_VAR_DIR": str(settings.var_dir),
        "MUTUALAID_LOG_LEVEL": "WARNING",
        "MUTUALAID_RATE_LIMITS_ENABLED": "false",
    }


def start(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        CLI + args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


@contextlib.contextmanager
def running(*processes: subprocess.Popen):
    try:
        yield
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)


async def wait_for(predicate, within: float, step: float = 0.02):
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        value = await predicate()
        if value:
            return value
        await asyncio.sleep(step)
    raise AssertionError("timed out waiting")


async def wait_until_serving(url: str) -> None:
    async with httpx.AsyncClient() as http:
        for _ in range(300):
            try:
                if (await http.get(f"{url}/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"{url} did not start")
