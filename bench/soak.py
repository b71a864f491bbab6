"""Mixed load: partners and citizens while union batches run.

    python -m bench.soak [--batches N] [--every S] [--rows R] [--members M]

The service as deployed on PostgreSQL (`serve --workers 2`, two `mutualaid worker`s, the platform
simulator, rate limits at their defaults), with M covered members. Throughout, at a steady pace
(wrk, each connection pausing after every answer): about 150 coverage look-ups and 5 bulk
queries of 500 workers a second from a platform, and 10 claims a second from the government
app. Every `--every` seconds a union uploads
a batch of R new workers. The load is measured in back-to-back slices of a few seconds; a slice
that overlaps a batch (from its upload until it is done) counts as a batch window, the others as
quiet. Printed: each endpoint's p50/p99 in quiet and batch windows side by side, each batch's
time and the look-up p99 while it ran (the fifth against the first), 5xx counts, the API and
worker processes' memory at start and end, and a consistency check of the database at the end
(one payout per approved claim, no cap exceeded, one cover period per paid enrolment order and
one per activated row of a paid invoice).

Each batch's invoice is paid (the gateway's signed notification) once it is done, and the batch
counts as activated when every accepted row's cover is. Individual enrolments with payment
(`bench.enrolment_flows`: apply, payment order, the gateway's notification) start at
`--enrolments-per-second` throughout. How long the service's transactions stay open, by kind of
process, is read from pg_stat_activity (`bench.transactions`) and printed for quiet and batch
windows.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import threading
import time
from dataclasses import dataclass, field
from datetime import date

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from app.core.config import Settings, with_development_secrets
from app.core.signing import signature_header
from app.plans import DEFAULT_PLAN_CODE, in_force
from bench import enrolment_flows, transactions
from bench.batch import PLAN, as_csv, batch_rows, start_simulated_platform
from bench.claims import DOCUMENTS
from bench.harness import Service, free_port, fresh_database, wait_until_serving
from bench.http_bench import CLOCK, COVER_STARTS, PLATFORM, seed
from bench.results import TABLE_HEAD, Measurement, report
from bench.wrk import WrkLoad, run_wrk

SLICE_SECONDS = 5.0
# A batch window: from the upload until the batch is done, and at least this long (what a batch
# leaves behind, invoices, dead rows, is part of its disturbance).
BATCH_WINDOW_SECONDS = 30.0
# (connections, pause after each answer in ms): about 150 look-ups, 5 bulk queries of 500 ids
# and 10 claims a second.
LOOKUP_PACE = (6, 35)
BULK_PACE = (2, 360)  # wrk wants a connection per thread at least
BULK_SIZE = 500
CLAIM_PACE = (2, 190)
# The invoices are paid an hour after the service's clock (bench.http_bench.CLOCK).
PAID_AT = "2026-11-23T03:00:00+00:00"
# Issue 20, acceptance 1.
TARGET_LOOKUP_RATIO = 2.0
TARGET_LOOKUP_P99_MS = 400.0
TARGET_CLAIM_P99_MS = 800.0


@dataclass
class Slice:
    endpoint: str
    started: float
    ended: float
    measured: Measurement


@dataclass
class Batch:
    uploaded: float
    done: float | None = None
    status: str = "uploading"
    accepted: int = 0
    # Its invoice paid (a signed gateway notification) and its members' cover activated.
    activated: int = 0
    activated_after: float | None = None
    # The job workers' resident memory once it was activated (growth or a plateau?).
    workers_mb: list[int] = field(default_factory=list)

    def overlaps(self, started: float, ended: float) -> bool:
        until = max(self.done or float("inf"), self.uploaded + BATCH_WINDOW_SECONDS)
        return started < until and ended > self.uploaded


@dataclass
class Timeline:
    slices: list[Slice] = field(default_factory=list)
    batches: list[Batch] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # A load that could not run (wrk failed): the run measures nothing worth printing as met.
    errors: list[str] = field(default_factory=list)

    def in_batch(self, piece: Slice) -> bool:
        return any(b.overlaps(piece.started, piece.ended) for b in self.batches)

    def at_batch(self, moment: float) -> bool:
        return any(b.overlaps(moment, moment) for b in self.batches)


def keep_measuring(
    timeline: Timeline, stop: threading.Event, name: str, port: int, load: WrkLoad, pace: tuple
) -> None:
    offset = 0
    while not stop.is_set():
        started = time.monotonic()
        try:
            measured, offset = run_wrk(
                port,
                load,
                connections=pace[0],
                seconds=SLICE_SECONDS,
                offset=offset,
                delay_ms=pace[1],
            )
        except (RuntimeError, subprocess.CalledProcessError) as exc:
            with timeline.lock:
                timeline.errors.append(f"{name}: {exc}")
            return
        with timeline.lock:
            timeline.slices.append(Slice(name, started, time.monotonic(), measured))


def pay(http: httpx.Client, invoice: dict[str, object], secret: bytes) -> None:
    """The gateway's signed word that the union paid the batch's invoice."""
    body = json.dumps(
        {
            "event_id": f"soak-{invoice['id']}",
            "payment_order_id": invoice["id"],
            "status": "succeeded",
            "amount_fen": invoice["amount_fen"],
            "paid_at": PAID_AT,
            "channel": "bank_transfer",
        }
    ).encode()
    answer = http.post(
        "/v1/payment-notifications",
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-Signature": signature_header(secret, int(time.time()), body),
        },
    )
    answer.raise_for_status()


def upload_batches(
    timeline: Timeline,
    base: str,
    union_key: str,
    secret: bytes,
    args: argparse.Namespace,
    workers: list[int],
) -> None:
    rows = batch_rows(args.rows * args.batches)
    headers = {"Authorization": f"Bearer {union_key}"}
    with httpx.Client(base_url=base, headers=headers, timeout=120) as http:
        for n in range(args.batches):
            time.sleep(args.every if n else args.every / 2)
            batch = Batch(uploaded=time.monotonic())
            with timeline.lock:
                timeline.batches.append(batch)
            created = http.post(
                "/v1/enrolment-batches",
                content=as_csv(rows[n * args.rows : (n + 1) * args.rows]),
                params={"plan_code": PLAN},
                headers={"Content-Type": "text/csv", "Idempotency-Key": f"soak-{n}"},
            )
            created.raise_for_status()
            batch_id = created.json()["id"]
            while True:
                found = http.get(f"/v1/enrolment-batches/{batch_id}").json()
                if found["status"] in ("done", "failed"):
                    batch.status, batch.done = found["status"], time.monotonic()
                    batch.accepted = found["accepted"]
                    break
                time.sleep(0.2)
            if found["invoice"]:
                pay(http, found["invoice"], secret)
                while batch.activated < batch.accepted:
                    time.sleep(0.2)
                    batch.activated = http.get(f"/v1/enrolment-batches/{batch_id}").json()[
                        "activated"
                    ]
                batch.activated_after = time.monotonic() - batch.uploaded
            batch.workers_mb = [round(rss_mb(pid)) for pid in workers]
        time.sleep(args.every / 2)


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as found:
        return [int(p) for p in found.read().split()]


async def consistency(database_url: str) -> dict[str, int]:
    """Counts that must all be 0."""
    plan = in_force(DEFAULT_PLAN_CODE, date(2026, 1, 1))
    assert plan is not None
    ceiling = plan.ceiling_fen.value
    condolences = plan.benefit("accident_condolence").int_param("max_per_period_fen")
    url = make_url(database_url).set(drivername="postgresql")
    connection = await asyncpg.connect(url.render_as_string(hide_password=False))
    try:
        return {
            "approved claims without exactly one payout": await connection.fetchval(
                "SELECT count(*) FROM claims c WHERE c.status = 'approved'"
                " AND (SELECT count(*) FROM payouts p WHERE p.claim_id = c.id) <> 1"
            ),
            "periods past a cap": await connection.fetchval(
                "SELECT count(*) FROM (SELECT d.member_id, d.coverage_period_id,"
                " sum(d.payable_fen) AS total, sum(d.payable_fen) FILTER"
                " (WHERE c.benefit = 'accident_condolence') AS condolences"
                " FROM claim_decisions d JOIN claims c ON c.id = d.claim_id"
                " WHERE d.outcome = 'approved' GROUP BY 1, 2) t"
                " WHERE total > $1 OR condolences > $2",
                ceiling,
                condolences,
            ),
            "paid enrolment orders without exactly one period": await connection.fetchval(
                "SELECT count(*) FROM payment_orders o WHERE o.status = 'paid'"
                " AND o.enrolment_id IS NOT NULL AND (SELECT count(*) FROM coverage_periods p"
                " WHERE p.payment_order_id = o.id) <> 1"
            ),
            "paid invoices whose periods are not their batch's activated rows": (
                await connection.fetchval(
                    "SELECT count(*) FROM payment_orders o JOIN enrolment_batches b"
                    " ON b.id = o.batch_id WHERE o.status = 'paid' AND (SELECT count(*)"
                    " FROM coverage_periods p WHERE p.payment_order_id = o.id) <> b.activated"
                )
            ),
        }
    finally:
        await connection.close()


def summarise(timeline: Timeline, name: str, quiet: bool) -> Measurement:
    total = Measurement()
    for piece in timeline.slices:
        if piece.endpoint == name and timeline.in_batch(piece) != quiet:
            total.add(piece.measured)
    return total


def run(args: argparse.Namespace) -> None:
    with fresh_database() as database_url:
        service = Service(
            database_url,
            extra_env={"MUTUALAID_CLOCK": CLOCK, "MUTUALAID_RATE_LIMITS_ENABLED": "true"},
        )
        try:
            service.run("migrate")
            sim_port, api_port = free_port(), free_port()
            # The batches' workers first, then those who enrol one by one.
            enrolling = int(args.enrolments_per_second * (args.batches + 1) * args.every) + 100
            start_simulated_platform(service, sim_port, args.rows * args.batches + enrolling)
            service.run(
                "platforms", "add", "--code", PLATFORM, "--name", "bench",
                "--verify-url", "http://127.0.0.1:9/verify", "--work-types", "food_delivery",
            )  # fmt: skip

            def client(role: str, org: str | None = None) -> dict[str, str]:
                given = ["--org", org] if org else []
                created = service.run("clients", "create", "--role", role, *given, "--json")
                return dict(json.loads(created))

            union, platform, citizen = (
                client("union", "bench"),
                client("platform", PLATFORM),
                client("citizen_app"),
            )
            members = asyncio.run(seed(service, citizen["id"], args.members))
            members_file = service.var_dir / "soak-members.txt"
            members_file.write_text("".join(f"{m.member_id}\n" for m in members))
            workers_file = service.var_dir / "soak-workers.txt"
            workers_file.write_text("".join(f"{m.platform_worker_id}\n" for m in members))

            api = service.start("serve", "--port", str(api_port), "--workers", "2")
            workers = [service.start("worker", "--poll-seconds", "0.25") for _ in range(2)]
            base = f"http://127.0.0.1:{api_port}"
            wait_until_serving(f"{base}/readyz")
            wait_until_serving(f"http://127.0.0.1:{sim_port}/docs")
            time.sleep(1.0)
            processes = {"api": children(api.pid), "workers": [w.pid for w in workers]}
            memory_start = {k: [round(rss_mb(p)) for p in v] for k, v in processes.items()}

            lookups = WrkLoad(
                "coverage.lua",
                (str(workers_file), "/v1/platform/workers/", "/coverage", platform["api_key"]),
            )
            documents = json.dumps(DOCUMENTS, separators=(",", ":"))
            claims = WrkLoad(
                "claims.lua",
                (str(members_file), citizen["api_key"], documents, COVER_STARTS.isoformat()),
            )
            bulk = WrkLoad(
                "coverage_queries.lua",
                (str(workers_file), platform["api_key"], str(BULK_SIZE)),
            )
            timeline, stop = Timeline(), threading.Event()
            loads = [
                threading.Thread(
                    target=keep_measuring,
                    args=(timeline, stop, name, api_port, load, pace),
                )
                for name, load, pace in (
                    ("lookups", lookups, LOOKUP_PACE),
                    ("bulk queries", bulk, BULK_PACE),
                    ("claims", claims, CLAIM_PACE),
                )
            ]
            for thread in loads:
                thread.start()
            settings = with_development_secrets(
                Settings(DATABASE_URL=database_url, MUTUALAID_VAR_DIR=str(service.var_dir))
            )
            secret = settings.payment_secrets()[0]
            flows = enrolment_flows.Flows(
                base, citizen["api_key"], secret, PLAN, PAID_AT,
                first=args.rows * args.batches, count=enrolling,
                per_second=args.enrolments_per_second,
            )  # fmt: skip
            flowing, enrolled = enrolment_flows.run_in_thread(flows, stop)
            watching, watched = transactions.watch(database_url, stop)
            upload_batches(timeline, base, union["api_key"], secret, args, processes["workers"])
            stop.set()
            for thread in [*loads, flowing, watching]:
                thread.join()
            for name, started, ended, measured in enrolled.slices(SLICE_SECONDS):
                timeline.slices.append(Slice(name, started, ended, measured))
            memory_end = {k: [round(rss_mb(p)) for p in v] for k, v in processes.items()}
            checks = asyncio.run(consistency(database_url))
        finally:
            service.stop()
    conclude(args, Observed(timeline, enrolled, watched, memory_start, memory_end, checks))


@dataclass
class Observed:
    """What one soak saw, for `conclude` to report."""

    timeline: Timeline
    enrolled: enrolment_flows.Recorded
    watched: transactions.Watched
    memory_start: dict[str, list[int]]
    memory_end: dict[str, list[int]]
    checks: dict[str, int]


def conclude(args: argparse.Namespace, seen: Observed) -> None:
    timeline, enrolled, watched, checks = seen.timeline, seen.enrolled, seen.watched, seen.checks
    memory_start, memory_end = seen.memory_start, seen.memory_end
    print(f"\n{args.members} members, a batch of {args.rows} rows every {args.every:.0f} s")
    print(TABLE_HEAD)
    results = {}
    endpoints = ("lookups", "bulk queries", "claims", enrolment_flows.APPLY, enrolment_flows.PAY)
    for name in endpoints:
        for quiet in (True, False):
            measured = summarise(timeline, name, quiet)
            results[(name, quiet)] = measured
            print(report(f"{name}, {'quiet' if quiet else 'batch'} windows", measured))
    first_p99: float | None = None
    lookup_slices = [s for s in timeline.slices if s.endpoint == "lookups"]
    for n, batch in enumerate(timeline.batches, start=1):
        during = Measurement()
        for piece in lookup_slices:
            if batch.overlaps(piece.started, piece.ended):
                during.add(piece.measured)
        seconds = (batch.done or time.monotonic()) - batch.uploaded
        p99 = during.percentile_ms(0.99)
        first_p99 = p99 if first_p99 is None else first_p99
        activated = (
            f"{batch.activated} activated {batch.activated_after:.1f} s after the upload"
            if batch.activated_after is not None
            else "not activated"
        )
        print(
            f"batch {n}: {batch.status} ({batch.accepted} accepted) in {seconds:.1f} s, "
            f"{activated}; look-up p99 in its window {p99:.0f} ms; workers then "
            f"{batch.workers_mb} MB"
        )
    print(
        f"individual enrolments: {enrolled.flows_started} started, {enrolled.activated} paid "
        f"and activated; failures: {dict(enrolled.failures) or 'none'}"
    )
    for kind in watched.kinds:
        quiet_worst = watched.worst(kind, lambda at: not timeline.at_batch(at))
        batch_worst = watched.worst(kind, timeline.at_batch)
        print(
            f"transactions of {kind}: oldest open {quiet_worst[0]:.2f} s quiet, "
            f"{batch_worst[0]:.2f} s in batch windows (its last statement: "
            f"{batch_worst[2]!r}); most idle in a transaction at once {quiet_worst[1]} quiet, "
            f"{batch_worst[1]} in batch windows"
        )
    print(f"memory MB at start {memory_start}, at end {memory_end}")
    print(f"consistency (all must be 0): {checks}")
    quiet_lookup = results[("lookups", True)].percentile_ms(0.99)
    batch_lookup = results[("lookups", False)].percentile_ms(0.99)
    batch_claims = results[("claims", False)].percentile_ms(0.99)
    batch_enrolments = max(
        results[(enrolment_flows.APPLY, False)].percentile_ms(0.99),
        results[(enrolment_flows.PAY, False)].percentile_ms(0.99),
    )
    server_errors = sum(
        count
        for measured in results.values()
        for status, count in measured.statuses.items()
        if status >= 500
    )
    fifth_no_worse = (
        first_p99 is not None and timeline.batches and p99 <= max(first_p99 * 1.25, first_p99 + 50)
    )
    for error in timeline.errors:
        print(f"a load failed, so this run proves nothing: {error}")
    met = (
        not timeline.errors
        and batch_lookup <= TARGET_LOOKUP_RATIO * quiet_lookup
        and batch_lookup < TARGET_LOOKUP_P99_MS
        and batch_claims < TARGET_CLAIM_P99_MS
        and batch_enrolments < TARGET_CLAIM_P99_MS
        and enrolled.activated == enrolled.flows_started > 0
        and server_errors == 0
        and all(b.status == "done" and b.activated == b.accepted for b in timeline.batches)
        and not any(checks.values())
        and fifth_no_worse
    )
    print(
        f"look-up p99 quiet {quiet_lookup:.0f} ms, batch {batch_lookup:.0f} ms "
        f"({batch_lookup / quiet_lookup:.1f}x; target <= {TARGET_LOOKUP_RATIO:.0f}x and "
        f"< {TARGET_LOOKUP_P99_MS:.0f} ms); claims p99 in batch windows {batch_claims:.0f} ms "
        f"and enrolments {batch_enrolments:.0f} ms (target < {TARGET_CLAIM_P99_MS:.0f} ms); "
        f"5xx: {server_errors}; last batch no worse "
        f"than the first: {bool(fifth_no_worse)}: " + ("met" if met else "NOT met")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--every", type=float, default=60.0, help="seconds between batches")
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--members", type=int, default=20000)
    parser.add_argument("--enrolments-per-second", type=float, default=3.0)
    run(parser.parse_args())


if __name__ == "__main__":
    main()
