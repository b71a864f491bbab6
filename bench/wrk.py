"""Driving an endpoint with wrk (https://github.com/wg/wrk): C, an event loop per thread, far
less CPU per request than any Python client, which matters on a machine whose two cores the
load generator shares with the service. Each endpoint is a Lua script in `bench/lua/`; the
shared `common.lua` prints counts and latency quantiles as one JSON line that this module
reads.

`make bench` installs wrk from the distribution's packages when it is missing; without it the
benchmarks fall back to `bench.load`, the Python generator, and say so (`BENCH_LOAD=python`
asks for it even when wrk is there).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench.results import Measurement

SCRIPTS = Path(__file__).resolve().parent / "lua"
THREADS = 2
TIMEOUT_SECONDS = 10  # wrk's default of 2 s would count a slow answer as an error, not a latency
_MARKER = "WRK_RESULT "


def wrk_path() -> str | None:
    """wrk's path, or None when it is missing or `BENCH_LOAD=python` asks for the fallback."""
    if os.environ.get("BENCH_LOAD") == "python":
        return None
    return shutil.which("wrk")


@dataclass(frozen=True)
class WrkLoad:
    """One endpoint's requests: a script of `bench/lua/` and its own arguments (after the
    thread count and the number to start from, which every script takes first)."""

    script: str
    args: tuple[str, ...] = ()


def run_wrk(
    port: int,
    load: WrkLoad,
    *,
    connections: int,
    seconds: float,
    offset: int = 0,
    delay_ms: int | None = None,
) -> tuple[Measurement, int]:
    """`load` against 127.0.0.1:`port` for `seconds` over `connections` keep-alive connections,
    its request numbers from `offset` on; what it measured, and where the next run's numbers may
    begin (so that runs in turn never send the same request twice). With `delay_ms` each
    connection pauses that long after every answer (bench/lua/common.lua): a steady rate."""
    executable = wrk_path()
    if executable is None:
        raise RuntimeError("wrk is not installed (apt-get install -y wrk)")
    command = [
        executable,
        f"--threads={THREADS}",
        f"--connections={connections}",
        f"--duration={max(1, round(seconds))}s",
        f"--timeout={TIMEOUT_SECONDS}s",
        f"--script={SCRIPTS / load.script}",
        f"http://127.0.0.1:{port}",
        "--",
        str(THREADS),
        str(offset),
        *load.args,
    ]
    env = os.environ | ({"WRK_DELAY_MS": str(delay_ms)} if delay_ms is not None else {})
    done = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
    return parse(done.stdout)


def parse(output: str) -> tuple[Measurement, int]:
    lines = [line for line in output.splitlines() if line.startswith(_MARKER)]
    if not lines:
        raise RuntimeError(f"wrk printed no result:\n{output}")
    found = json.loads(lines[-1][len(_MARKER) :])
    weight = found["requests"] / len(found["quantiles_us"]) if found["quantiles_us"] else 0.0
    measured = Measurement(
        requests=found["requests"],
        seconds=found["duration_us"] / 1_000_000,
        statuses=Counter({int(status): n for status, n in found["statuses"].items()}),
        outcomes=Counter(found["outcomes"]),
        samples=[(us / 1000, weight) for us in found["quantiles_us"]],
        socket_errors=sum(found["errors"].values()),
    )
    return measured, int(found["next_offset"])
