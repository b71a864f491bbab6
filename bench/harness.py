"""What every benchmark needs: a fresh PostgreSQL database, the service's processes started the
way an operator starts them, and peak memory read from the kernel."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy.engine import URL, make_url

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "app.cli"]
SERVER_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def fresh_database() -> Iterator[str]:
    """A new, empty PostgreSQL database for one run, dropped afterwards."""
    name = f"mutualaid_bench_{uuid.uuid4().hex[:8]}"
    url = make_url(SERVER_URL)
    _admin(url, f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        _admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _admin(url: URL, statement: str) -> None:
    async def run() -> None:
        conn = await asyncpg.connect(
            host=url.host,
            port=url.port or 5432,
            user=url.username,
            password=url.password,
            database=url.database or "postgres",
        )
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(run())


@dataclass
class Service:
    """The service's processes for one run, sharing one database and one var directory."""

    database_url: str
    var_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="mutualaid-bench-")))
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    extra_env: dict[str, str] = field(default_factory=dict)
    # Where the processes' log lines go (stderr): inherited when None.
    log_file: Path | None = None

    @property
    def env(self) -> dict[str, str]:
        return (
            dict(os.environ)
            | {
                "DATABASE_URL": self.database_url,
                "MUTUALAID_VAR_DIR": str(self.var_dir),
                "MUTUALAID_LOG_LEVEL": "WARNING",
                # The load generator is one client going as fast as it can, on purpose.
                "MUTUALAID_RATE_LIMITS_ENABLED": "false",
            }
            | self.extra_env
        )

    def run(self, *args: str) -> str:
        done = subprocess.run(
            CLI + list(args), cwd=ROOT, env=self.env, capture_output=True, text=True, check=True
        )
        return done.stdout

    def start(self, *args: str, command: list[str] = CLI) -> subprocess.Popen[bytes]:
        """Start `mutualaid ARGS` (or another command, e.g. uvicorn for a baseline app)."""
        with contextlib.ExitStack() as files:
            stderr = files.enter_context(self.log_file.open("ab")) if self.log_file else None
            process = subprocess.Popen(
                command + list(args),
                cwd=ROOT,
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        self.processes.append(process)
        return process

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def wait_until_serving(url: str, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1).status_code < 500:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def peak_memory_mb(pid: int) -> float:
    """The process's peak resident set size (VmHWM), from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")
