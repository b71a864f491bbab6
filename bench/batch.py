"""Batch enrolment: 100,000 rows through the HTTP API on PostgreSQL, two worker processes,
against the simulated platform (bulk verification); beside it, a plain COPY of the same rows.

    make bench            # or: python -m bench.batch [--rows N] [--workers N]

Prints the time from upload to `done`, rows per second, each worker's peak memory, and the
COPY rate measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import time

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
TARGET_SECONDS = 30.0
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


def run(count: int, worker_count: int) -> dict[str, object]:
    rows = batch_rows(count)
    body = as_csv(rows)
    with fresh_database() as database_url:
        service = Service(database_url)
        try:
            service.run("migrate")
            sim_port, api_port = free_port(), free_port()
            service.start("platform-sim", "--port", str(sim_port), "--synthetic", str(count))
            service.run(
                "platforms", "add", "--code", "sim", "--name", "simulated platform",
                "--verify-url", f"http://127.0.0.1:{sim_port}/verify",
                "--bulk-verify-url", f"http://127.0.0.1:{sim_port}/verify/bulk",
                "--work-types", "food_delivery",
            )  # fmt: skip
            client = service.run("clients", "create", "--role", "union", "--org", "bench", "--json")
            key = json.loads(client)["api_key"]
            api = service.start("serve", "--host", "127.0.0.1", "--port", str(api_port))
            workers = [
                service.start("worker", "--poll-seconds", "0.05") for _ in range(worker_count)
            ]
            base = f"http://127.0.0.1:{api_port}"
            wait_until_serving(f"{base}/readyz")
            wait_until_serving(f"http://127.0.0.1:{sim_port}/docs")
            time.sleep(1.0)  # let the workers finish starting
            headers = {"Authorization": f"Bearer {key}"}
            with httpx.Client(base_url=base, headers=headers, timeout=120) as http:
                started = time.perf_counter()
                created = http.post(
                    "/v1/enrolment-batches",
                    content=body,
                    params={"plan_code": PLAN},
                    headers={"Content-Type": "text/csv", "Idempotency-Key": "bench"},
                )
                created.raise_for_status()
                accepted_at = time.perf_counter() - started
                batch_id = created.json()["id"]
                while True:
                    batch = http.get(f"/v1/enrolment-batches/{batch_id}").json()
                    if batch["status"] in ("done", "failed"):
                        break
                    time.sleep(0.1)
                elapsed = time.perf_counter() - started
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
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    result = run(args.rows, args.workers)
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
