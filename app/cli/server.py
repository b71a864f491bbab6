"""Running the service: `migrate`, `serve`, `worker`."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated

import typer

from app.cli.common import settings_or_exit, with_db
from app.core.db import WORKER_CONNECTIONS, Database


def migrate() -> None:
    """Apply the database migrations to DATABASE_URL."""
    from app.core.migrate import upgrade

    settings = settings_or_exit()
    upgrade(settings.database_url)
    typer.echo("database migrated to head")


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes (PostgreSQL deployments).")] = 1,
) -> None:
    """Migrate if needed, then serve the API."""
    import uvicorn

    from app.core.logging import configure_logging
    from app.core.migrate import upgrade

    settings = settings_or_exit()
    configure_logging(settings.log_level)
    upgrade(settings.database_url)
    if settings.is_sqlite and workers > 1:
        typer.echo(
            "note: several workers on SQLite share one file; use PostgreSQL to scale out", err=True
        )
    if workers > 1:
        _share_metrics(settings.var_dir / "prometheus")
    uvicorn.run(
        "app.main:serve_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        access_log=False,
        proxy_headers=True,
    )


def _share_metrics(directory: Path) -> None:
    """Several processes on one port: each writes its counters to files there, and a scrape of
    any of them adds up all (prometheus_client's multiprocess mode). Fresh at each start, so a
    restart begins from zero as counters should."""
    import shutil

    if given := os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        Path(given).mkdir(parents=True, exist_ok=True)  # emptying it is the operator's
        return
    # One directory per `serve`, so two of them sharing a var dir (a restart that overlaps)
    # do not wipe each other's counters.
    own = directory / str(os.getpid())
    shutil.rmtree(own, ignore_errors=True)
    own.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(own)


# Job workers yield the CPU to API processes on the same host: interactive requests first.
WORKER_NICENESS = 10


def worker(
    poll_seconds: Annotated[float, typer.Option(help="Wait between looks when idle.")] = 1.0,
    lease_seconds: Annotated[
        float,
        typer.Option(help="How long a claimed job stays this worker's without a heartbeat."),
    ] = 60.0,
    metrics_port: Annotated[
        int | None,
        typer.Option(help="Serve this worker's Prometheus metrics on this port."),
    ] = None,
    metrics_host: Annotated[str, typer.Option(help="Interface for --metrics-port.")] = "127.0.0.1",
    niceness: Annotated[
        int,
        typer.Option(
            "--nice",
            min=0,
            max=19,
            help="Lower this worker's CPU priority by this much (Unix nice): on a host it "
            "shares with API processes, a batch then takes only the CPU they leave.",
        ),
    ] = WORKER_NICENESS,
) -> None:
    """Run background jobs until stopped (SIGINT/SIGTERM). Run several on PostgreSQL."""
    import signal

    from app.core.logging import configure_logging
    from app.core.runtime import Runtime
    from app.handlers import JOB_HANDLERS, WORKER_DUTIES
    from app.jobs.worker import Worker

    settings = settings_or_exit()
    configure_logging(settings.log_level)
    if niceness:
        os.nice(niceness)
    if metrics_port is not None:
        from prometheus_client import start_http_server

        start_http_server(metrics_port, addr=metrics_host)

    async def work(db: Database) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        runtime = Runtime.from_settings(settings, db)
        try:
            await Worker(
                runtime,
                JOB_HANDLERS,
                poll_seconds=poll_seconds,
                lease_seconds=lease_seconds,
                duties=WORKER_DUTIES,
            ).run(stop)
        finally:
            await runtime.http.aclose()

    with_db(work, WORKER_CONNECTIONS)
