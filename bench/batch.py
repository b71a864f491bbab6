"""Batch enrolment: 100,000 rows through the HTTP API on PostgreSQL, two worker processes,
against the simulated platform (bulk verification); beside it, a plain COPY of the same rows.

    make bench            # or: python -m bench.batch [--rows N] [--workers N] [--poll-seconds S]

Prints the time from upload to `done`, rows per second, each worker's peak memory, the COPY
rate measured in the same run, and where the CPU went: seconds used by the API process while it
read the upload, by the workers, the platform simulator and the database's backends while the
chunks ran (from /proc; the database's only when it runs on this machine).

The workers look for work every `--poll-seconds` when idle, in each of their lanes: much more
often than the default second spends CPU the batch needs on a small machine.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import httpx

from app.platforms.simulator import synthetic_workers
from bench.harness import Service, free_port, fresh_database, peak_memory_mb, wait_until_serving

PLAN = "shanghai-new-employment-e"
COLUMNS = (
    "ref",
    "id_number",
    "name",
    "phone",
    "platform_code",
    "platform_worker_id",
    "work_type",
    "union_member_number",
)
TARGET_SECONDS = 15.0  # issue 18
_TICKS = os.sysconf("SC_CLK_TCK")
TARGET_PEAK_MB = 300.0


def batch_rows(count: int) -> list[tuple[str, ...]]:
    return [
        (
            f"S{i:06d}",
            w["id_number"],
            w["name"],
            f"139{i:08d}",
            "sim",
            w["platform_worker_id"],
            "food_delivery",
            f"BM{i:06d}",
        )
        for i, w in enumerate(synthetic_workers(count))
    ]


def as_csv(rows: list[tuple[str, ...]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    return buffer.getvalue().encode()


async def copy_rate(database_url: str, rows: list[tuple[str, ...]]) -> float:
    """Rows per second of a plain COPY of the same rows into an unindexed table."""
    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        await conn.execute(
            "CREATE TABLE bench_copy (" + ", ".join(f"{c} text" for c in COLUMNS) + ")"
        )
        started = time.perf_counter()
        await conn.copy_records_to_table("bench_copy", records=rows, columns=list(COLUMNS))
        elapsed = time.perf_counter() - started
        await conn.execute("DROP TABLE bench_copy")
    finally:
        await conn.close()
    return len(rows) / elapsed


def cpu_seconds(pid: int) -> float:
    """User and system CPU the process has used so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS


@contextmanager
def database_cpu(database: str) -> Iterator[dict[int, tuple[float, float]]]:
    """The CPU used by the local PostgreSQL backends serving `database` while the block runs,
    sampled often enough to see short-lived ones: {pid: (first seen, last seen)}."""
    seen: dict[int, tuple[float, float]] = {}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            for entry in Path("/proc").iterdir():
                if not entry.name.isdigit():
                    continue
                try:
                    command = (entry / "cmdline").read_bytes()
                except OSError:
                    continue
                if command.startswith(b"postgres:") and database.encode() in command:
                    used = cpu_seconds(int(entry.name))
                    first = seen.get(int(entry.name), (used, used))[0]
                    seen[int(entry.name)] = (first, used)
            done.wait(0.2)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield seen
    finally:
        done.set()
        thread.join()


def start_simulated_platform(service: Service, port: int, workers: int) -> subprocess.Popen[bytes]:
    """`platform-sim` with `workers` synthetic workers on `port`, registered as platform `sim`
    (verifying one worker or many at once); its process."""
    simulator = service.start("platform-sim", "--port", str(port), "--synthetic", str(workers))
    service.run(
        "platforms", "add", "--code", "sim", "--name", "simulated platform",
        "--verify-url", f"http://127.0.0.1:{port}/verify",
        "--bulk-verify-url", f"http://127.0.0.1:{port}/verify/bulk",
        "--work-types", "food_delivery",
    )  # fmt: skip
    return simulator


def run(count: int, worker_count: int, poll_seconds: float) -> dict[str, object]:
    rows = batch_rows(count)
    body = as_csv(rows)
    with fresh_database() as database_url:
        service = Service(database_url)
        try:
            service.run("migrate")
            sim_port, api_port = free_port(), free_port()
            simulator = start_simulated_platform(service, sim_port, count)
            client = service.run("clients", "create", "--role", "union", "--org", "bench", "--json")
            key = json.loads(client)["api_key"]
            api = service.start("serve", "--host", "127.0.0.1", "--port", str(api_port))
            workers = [
                service.start("worker", "--poll-seconds", str(poll_seconds))
                for _ in range(worker_count)
            ]
            base = f"http://127.0.0.1:{api_port}"
            wait_until_serving(f"{base}/readyz")
            wait_until_serving(f"http://127.0.0.1:{sim_port}/docs")
            time.sleep(1.0)  # let the workers finish starting
            headers = {"Authorization": f"Bearer {key}"}
            database = database_url.rsplit("/", 1)[1]
            others = [w.pid for w in workers] + [simulator.pid]
            with (
                httpx.Client(base_url=base, headers=headers, timeout=120) as http,
                database_cpu(database) as backends,
            ):
                api_cpu, others_cpu = cpu_seconds(api.pid), [cpu_seconds(p) for p in others]
                started = time.perf_counter()
                created = http.post(
                    "/v1/enrolment-batches",
                    content=body,
                    params={"plan_code": PLAN},
                    headers={"Content-Type": "text/csv", "Idempotency-Key": "bench"},
                )
                created.raise_for_status()
                accepted_at = time.perf_counter() - started
                upload_cpu = cpu_seconds(api.pid) - api_cpu
                batch_id = created.json()["id"]
                while True:
                    batch = http.get(f"/v1/enrolment-batches/{batch_id}").json()
                    if batch["status"] in ("done", "failed"):
                        break
                    time.sleep(0.1)
                elapsed = time.perf_counter() - started
                spent = [
                    cpu_seconds(p) - before for p, before in zip(others, others_cpu, strict=True)
                ]
            database_cpu_seconds = sum(last - first for first, last in backends.values())
            peaks = [peak_memory_mb(w.pid) for w in workers]
            api_peak = peak_memory_mb(api.pid)
            copy = asyncio.run(copy_rate(database_url, rows))
        finally:
            service.stop()
    return {
        "rows": count,
        "workers": worker_count,
        "status": batch["status"],
        "accepted": batch["accepted"],
        "invoice_fen": (batch["invoice"] or {}).get("amount_fen"),
        "upload_seconds": round(accepted_at, 2),
        "total_seconds": round(elapsed, 2),
        "rows_per_second": round(count / elapsed),
        "worker_peak_mb": [round(p, 1) for p in peaks],
        "api_peak_mb": round(api_peak, 1),
        "copy_rows_per_second": round(copy),
        "cpu_seconds": {
            "api_reading_upload": round(upload_cpu, 1),
            "workers": round(sum(spent[:-1]), 1),
            "platform_simulator": round(spent[-1], 1),
            "database": round(database_cpu_seconds, 1),
        },
        "load_average": os.getloadavg()[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--poll-seconds", type=float, default=0.25)
    args = parser.parse_args()
    result = run(args.rows, args.workers, args.poll_seconds)
    print("batch enrolment benchmark (PostgreSQL, HTTP API, simulated platform)")
    for name, value in result.items():
        print(f"  {name:<22} {value}")
    ratio = result["rows_per_second"] / result["copy_rows_per_second"]  # type: ignore[operator]
    print(f"  {'vs plain COPY':<22} {ratio:.1%} of COPY's rate")
    ok_time = result["total_seconds"] <= TARGET_SECONDS  # type: ignore[operator]
    ok_memory = max(result["worker_peak_mb"]) < TARGET_PEAK_MB  # type: ignore[type-var, arg-type]
    print(
        f"  target: <= {TARGET_SECONDS:.0f} s ({'met' if ok_time else 'MISSED'}), "
        f"worker peak < {TARGET_PEAK_MB:.0f} MB ({'met' if ok_memory else 'MISSED'})"
    )


if __name__ == "__main__":
    main()
