"""What each layer between a coverage look-up's request and its one SELECT costs: the service
built as `mutualaid serve` builds it, and beside it the same service with one layer taken off,
both driven by wrk in alternating rounds; then the next layer. Besides requests per second
(which a shared machine's other load moves), the API processes' CPU time per request, read
from /proc, which it moves far less.

    python -m bench.layers [--seconds S] [--rounds R] [--only NAME,...]

The service is run with the settings of a deployment (JSON access log at INFO, written to a
file; the rate limiter on, at a rate no client of the bench reaches; the API key cache on), so
that every layer runs as it does in production. A layer taken off is taken off the app object
after `create_app` built it (`variant`), never by a switch in the service's own code.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI

from bench.harness import Service, free_port, fresh_database, wait_until_serving
from bench.http_bench import CLOCK, CONNECTIONS, DEPLOYED, PLATFORM, bare_server, prepare, seed
from bench.results import Measurement
from bench.wrk import WrkLoad, run_wrk, wrk_path

WITHOUT = "BENCH_WITHOUT"
CLIENT = "BENCH_CLIENT_ID"


class _Uncounted:
    """Stands in for a metric: takes labels and counts, records nothing."""

    def labels(self, *_: str) -> _Uncounted:
        return self

    def inc(self, *_: float) -> None:
        pass

    def observe(self, *_: float) -> None:
        pass


def _without_middleware(name: str) -> Callable[[FastAPI], None]:
    def take_off(app: FastAPI) -> None:
        app.user_middleware = [m for m in app.user_middleware if m.cls.__name__ != name]

    return take_off


def _without_access_log(_: FastAPI) -> None:
    logging.getLogger("mutualaid.access").disabled = True


def _without_request_metrics(_: FastAPI) -> None:
    from app.core import middleware

    middleware.HTTP_REQUESTS = middleware.HTTP_LATENCY = _Uncounted()  # type: ignore[assignment]


def _without_rate_limit(app: FastAPI) -> None:
    app.state.rate_limiter.per_second = 0


def _without_key_cache(app: FastAPI) -> None:
    app.state.caller_cache.ttl_seconds = 0


def _without_authentication(_: FastAPI) -> None:
    """The caller handed over as given: no header parsing, key hashing, cache, limiter."""
    from app.clients import auth
    from app.core.policy import Caller, Role

    caller = Caller(
        client_id=uuid.UUID(os.environ[CLIENT]), name="bench", role=Role.PLATFORM, org_code=PLATFORM
    )

    async def given(*_: object) -> Caller:
        return caller

    auth._authenticated = given  # type: ignore[assignment]


@dataclass(frozen=True)
class Layer:
    name: str
    take_off: Callable[[FastAPI], None]
    # The key cache saves work: without it a request costs more. Its row says so.
    saves: bool = False


LAYERS = {
    "access-log": Layer("JSON access log (one line a request, at INFO)", _without_access_log),
    "metrics": Layer("request count and latency histogram", _without_request_metrics),
    "request-context": Layer(
        "RequestContextMiddleware (request id, access log, metrics, 500 guard)",
        _without_middleware("RequestContextMiddleware"),
    ),
    "nul-guard": Layer("NulInUrlMiddleware", _without_middleware("NulInUrlMiddleware")),
    "body-limit": Layer("BodySizeLimitMiddleware", _without_middleware("BodySizeLimitMiddleware")),
    "content-type": Layer("ContentTypeGuard", _without_middleware("ContentTypeGuard")),
    "conflict-retry": Layer(
        "ConflictRetryMiddleware", _without_middleware("ConflictRetryMiddleware")
    ),
    "rate-limit": Layer("rate limiter (token bucket per client)", _without_rate_limit),
    "authentication": Layer(
        "authentication (bearer header, key hash, key cache, rate limiter)",
        _without_authentication,
    ),
    "key-cache": Layer(
        "API key cache (without it: a key look-up a request)", _without_key_cache, True
    ),
}


def variant() -> FastAPI:
    """The service's app, less the layer named in BENCH_WITHOUT (uvicorn factory)."""
    from app.main import serve_app

    app = serve_app()
    if name := os.environ.get(WITHOUT):
        LAYERS[name].take_off(app)
    return app


def _serve(port: int, workers: int) -> None:
    """As `mutualaid serve` runs uvicorn, with `variant` as the app."""
    import uvicorn

    uvicorn.run(
        "bench.layers:variant",
        factory=True,
        host="127.0.0.1",
        port=port,
        workers=workers,
        log_config=None,
        access_log=False,
        proxy_headers=True,
    )


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process and all its descendants still running."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pending = [pid]
    while pending:
        current = pending.pop()
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
            for task in Path(f"/proc/{current}/task").iterdir():
                children = (task / "children").read_text().split()
                pending += [int(child) for child in children]
    return total


@dataclass
class Tally:
    measured: Measurement
    cpu_seconds: float = 0.0

    @property
    def cpu_us_per_request(self) -> float:
        return self.cpu_seconds / self.measured.requests * 1e6 if self.measured.requests else 0.0


@dataclass
class Server:
    port: int
    pid: int
    load: WrkLoad
    offset: int = 0

    def run(self, seconds: float, into: Tally | None) -> None:
        before = _cpu_seconds(self.pid)
        measured, self.offset = run_wrk(
            self.port, self.load, connections=CONNECTIONS, seconds=seconds, offset=self.offset
        )
        if into is not None:
            into.measured.add(measured)
            into.cpu_seconds += _cpu_seconds(self.pid) - before


@contextlib.contextmanager
def serving(service: Service, without: str | None, workers: int, load: WrkLoad) -> Iterator[Server]:
    port = free_port()
    metrics_dir = service.var_dir / "prometheus" / uuid.uuid4().hex
    metrics_dir.mkdir(parents=True)
    variant_service = Service(
        service.database_url,
        var_dir=service.var_dir,
        extra_env=service.extra_env
        | {WITHOUT: without or "", "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)},
        log_file=service.log_file,
    )
    process = variant_service.start(
        "-m", "bench.layers", "serve", str(port), str(workers), command=[sys.executable]
    )
    try:
        wait_until_serving(f"http://127.0.0.1:{port}/healthz")
        yield Server(port, process.pid, load)
    finally:
        variant_service.stop()


def _row(name: str, full: Tally, less: Tally, saves: bool) -> str:
    with_layer, without = full.measured.per_second, less.measured.per_second
    cpu_with, cpu_without = full.cpu_us_per_request, less.cpu_us_per_request
    return (
        f"| {name} | {with_layer:,.0f} | {without:,.0f} | {without / with_layer - 1:+.0%} | "
        f"{cpu_with:,.0f} | {cpu_without:,.0f} | {cpu_with - cpu_without:+,.0f} |"
        + (" saves work |" if saves else " |")
    )


def main() -> None:
    if sys.argv[1:2] == ["serve"]:
        _serve(int(sys.argv[2]), int(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=4.0, help="per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--workers", type=int, default=2, help="API worker processes")
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--only", default=",".join(LAYERS), help="layers, comma-separated")
    args = parser.parse_args()
    if wrk_path() is None:
        sys.exit("the per-layer costs need wrk (apt-get install -y wrk)")
    chosen = [name for name in args.only.split(",") if name]

    with fresh_database() as database_url:
        service = Service(database_url, extra_env={"MUTUALAID_CLOCK": CLOCK} | DEPLOYED)
        created = prepare(service, "platform", PLATFORM)
        workers = asyncio.run(seed(service, created["id"], args.members))
        workers_file = service.var_dir / "bench-workers.txt"
        workers_file.write_text("\n".join(m.platform_worker_id for m in workers) + "\n")
        service.extra_env[CLIENT] = created["id"]
        # The service's log lines go to a file, as a deployment's go to its log collector.
        service.log_file = service.var_dir / "service.log"
        path = ("/v1/platform/workers/", "/coverage", created["api_key"])
        ours = WrkLoad("coverage.lua", (str(workers_file), *path))
        floor_load = WrkLoad("coverage.lua", (str(workers_file), "/bare/workers/", ""))
        rows: list[str] = []
        with serving(service, None, args.workers, ours) as full:
            with bare_server(service, args.workers) as (bare_port, bare_pid):
                bare = Server(bare_port, bare_pid, floor_load)
                full_tally, bare_tally = Tally(Measurement()), Tally(Measurement())
                full.run(args.warmup, None)
                bare.run(args.warmup, None)
                for _ in range(args.rounds):
                    full.run(args.seconds, full_tally)
                    bare.run(args.seconds, bare_tally)
                rows.append(_row("all layers vs the asyncpg floor", full_tally, bare_tally, False))
            for name in chosen:
                layer = LAYERS[name]
                with serving(service, name, args.workers, ours) as less:
                    full_tally, less_tally = Tally(Measurement()), Tally(Measurement())
                    less.run(args.warmup, None)
                    for _ in range(args.rounds):
                        full.run(args.seconds, full_tally)
                        less.run(args.seconds, less_tally)
                statuses = dict(less_tally.measured.statuses)
                rows.append(_row(layer.name, full_tally, less_tally, layer.saves))
                print(rows[-1], statuses, file=sys.stdout, flush=True)

    print(
        f"\n{CONNECTIONS} connections, {args.workers} API workers, "
        f"{args.rounds} rounds of {args.seconds:.0f} s each way"
    )
    print(
        "| layer | req/s with | req/s without | throughput without | CPU µs/req with | "
        "CPU µs/req without | layer's CPU µs/req | |\n|---|---|---|---|---|---|---|---|"
    )
    print("\n".join(rows))


if __name__ == "__main__":
    main()
