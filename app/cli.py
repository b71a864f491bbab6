"""The `mutualaid` command line."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from app.core.config import ConfigurationError, Settings, get_settings
from app.core.db import Database
from app.core.policy import Role
from app.keys.cli import keys_cli

T = TypeVar("T")

cli = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
clients_cli = typer.Typer(no_args_is_help=True, help="API clients and their keys.")
cli.add_typer(clients_cli, name="clients")
platforms_cli = typer.Typer(no_args_is_help=True, help="Partner platforms.")
cli.add_typer(platforms_cli, name="platforms")
idempotency_cli = typer.Typer(no_args_is_help=True, help="Stored Idempotency-Key responses.")
cli.add_typer(idempotency_cli, name="idempotency")
cli.add_typer(keys_cli, name="keys")


def _with_db(work: Callable[[Database], Awaitable[T]]) -> T:
    async def run() -> T:
        db = Database.from_settings(get_settings())
        try:
            return await work(db)
        finally:
            await db.dispose()

    return asyncio.run(run())


def _settings_or_exit() -> Settings:
    try:
        return get_settings()
    except ConfigurationError as exc:
        typer.echo(f"configuration error: {exc}", err=True)
        raise typer.Exit(2) from exc


@cli.command()
def migrate() -> None:
    """Apply the database migrations to DATABASE_URL."""
    from app.core.migrate import upgrade

    settings = _settings_or_exit()
    upgrade(settings.database_url)
    typer.echo("database migrated to head")


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes (PostgreSQL deployments).")] = 1,
) -> None:
    """Migrate if needed, then serve the API."""
    import uvicorn

    from app.core.logging import configure_logging
    from app.core.migrate import upgrade

    settings = _settings_or_exit()
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


@clients_cli.command("create")
def clients_create(
    role: Annotated[Role, typer.Option(help="citizen_app, union, platform, examiner or admin.")],
    org: Annotated[str | None, typer.Option(help="Union org code or platform code.")] = None,
    name: Annotated[str | None, typer.Option(help="A name for people.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Create a client and print its API key (shown only this once)."""
    from app.clients.service import create_client
    from app.core.errors import ServiceError

    _settings_or_exit()

    async def work(db: Database) -> dict[str, str | None]:
        async with db.writer() as session:
            issued = await create_client(
                session, role=role, name=name or f"{role.value}-{org or 'client'}", org_code=org
            )
            await session.commit()
            c = issued.client
            return {
                "id": str(c.id),
                "name": c.name,
                "role": c.role,
                "org_code": c.org_code,
                "api_key": issued.api_key,
            }

    try:
        created = _with_db(work)
    except ServiceError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(1) from exc
    if as_json:
        typer.echo(json.dumps(created))
    else:
        typer.echo(
            f"client {created['id']} ({created['role']}"
            f"{', ' + str(created['org_code']) if created['org_code'] else ''})"
        )
        typer.echo(f"API key (shown once): {created['api_key']}")


@clients_cli.command("list")
def clients_list(
    include_revoked: Annotated[bool, typer.Option(help="Show revoked clients too.")] = False,
) -> None:
    """List clients (never their keys)."""
    from app.clients.service import list_clients

    _settings_or_exit()

    async def work(db: Database) -> list[str]:
        async with db.reader() as session:
            return [
                f"{c.id}  {c.role:<11}  {c.org_code or '-':<16}  {c.key_prefix}…  {c.name}"
                + ("  (revoked)" if c.revoked_at else "")
                for c in await list_clients(session, include_revoked=include_revoked)
            ]

    for line in _with_db(work):
        typer.echo(line)


@clients_cli.command("revoke")
def clients_revoke(client_id: uuid.UUID) -> None:
    """Revoke a client's key; it stops working immediately."""
    from app.clients.service import revoke_client
    from app.core.errors import NotFound

    _settings_or_exit()

    async def work(db: Database) -> None:
        async with db.writer() as session:
            await revoke_client(session, client_id)
            await session.commit()

    try:
        _with_db(work)
    except NotFound as exc:
        typer.echo("error: no such client", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"revoked {client_id}")


@platforms_cli.command("add")
def platforms_add(
    code: Annotated[str, typer.Option(help="Platform code, e.g. demo-delivery.")],
    name: Annotated[str, typer.Option(help="Display name.")],
    verify_url: Annotated[str, typer.Option(help="The platform's verification endpoint.")],
    work_types: Annotated[str, typer.Option(help="Comma-separated work types.")],
    bulk_verify_url: Annotated[str | None, typer.Option(help="Bulk verification.")] = None,
    credential: Annotated[str | None, typer.Option(help="Bearer credential it expects.")] = None,
) -> None:
    """Register a partner platform (the admin API does the same)."""
    from pydantic import ValidationError

    from app.core.crypto import PersonalDataCipher
    from app.core.errors import ServiceError
    from app.platforms.schemas import PlatformIn
    from app.platforms.service import add_platform

    settings = _settings_or_exit()
    try:
        data = PlatformIn(
            code=code,
            name=name,
            verify_url=verify_url,
            bulk_verify_url=bulk_verify_url,
            credential=credential,
            work_types=[t.strip() for t in work_types.split(",") if t],
        )
    except ValidationError as exc:
        typer.echo(f"error: {exc.errors()[0]['loc'][0]}: {exc.errors()[0]['msg']}", err=True)
        raise typer.Exit(1) from exc
    cipher = PersonalDataCipher.from_settings(settings)

    async def work(db: Database) -> None:
        async with db.writer() as session:
            await add_platform(session, cipher, data, None)
            await session.commit()

    try:
        _with_db(work)
    except ServiceError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"platform {code} registered")


@idempotency_cli.command("purge")
def idempotency_purge(
    older_than_hours: Annotated[
        int | None, typer.Option(help="Default: MUTUALAID_IDEMPOTENCY_RETENTION_HOURS.")
    ] = None,
) -> None:
    """Delete stored responses older than the retention, and claims abandoned for an hour."""
    from app.idempotency.service import purge_older_than

    settings = _settings_or_exit()
    hours = older_than_hours or settings.idempotency_retention_hours

    async def work(db: Database) -> int:
        return await purge_older_than(db, hours)

    typer.echo(f"purged {_with_db(work)} idempotency key(s) older than {hours} h")


@cli.command()
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
) -> None:
    """Run background jobs until stopped (SIGINT/SIGTERM). Run several on PostgreSQL."""
    import signal

    from app.core.logging import configure_logging
    from app.core.runtime import Runtime
    from app.job_handlers import JOB_HANDLERS, PERIODIC_TASKS
    from app.jobs.worker import Worker

    settings = _settings_or_exit()
    configure_logging(settings.log_level)
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
                periodic=PERIODIC_TASKS,
            ).run(stop)
        finally:
            await runtime.http.aclose()

    _with_db(work)


@cli.command("platform-sim")
def platform_sim(
    port: Annotated[int, typer.Option(help="TCP port.")] = 8100,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    workers: Annotated[
        Path | None, typer.Option(help="JSON list of workers; default: the demo workers.")
    ] = None,
    credential: Annotated[
        str | None, typer.Option(help="Require `Authorization: Bearer <credential>`.")
    ] = None,
    synthetic: Annotated[
        int, typer.Option(help="Serve this many made-up active riders instead (syn-000000...).")
    ] = 0,
) -> None:
    """Serve a simulated partner platform's verification API (POST /verify, /verify/bulk)."""
    import uvicorn

    from app.platforms.simulator import (
        DEMO_WORKERS_FILE,
        create_simulator,
        load_workers,
        synthetic_workers,
    )

    seed = synthetic_workers(synthetic) if synthetic else load_workers(workers or DEMO_WORKERS_FILE)
    typer.echo(f"platform simulator with {len(seed)} worker(s) on http://{host}:{port}/verify")
    uvicorn.run(create_simulator(seed, credential), host=host, port=port, log_level="warning")


@cli.command()
def demo() -> None:
    """Seed demo clients (one per role) and print their keys. Refused in production."""
    from app.demo import seed_demo

    settings = _settings_or_exit()
    if settings.is_production:
        typer.echo("demo data is refused in production mode", err=True)
        raise typer.Exit(2)
    from app.core.crypto import PersonalDataCipher

    cipher = PersonalDataCipher.from_settings(settings)
    keys = _with_db(lambda db: seed_demo(db, cipher))
    typer.echo("Demo API keys (send as `Authorization: Bearer <key>`; rerunning rotates them):")
    for key in keys:
        binding = f" [{key.org_code}]" if key.org_code else ""
        typer.echo(f"  {key.role:<12}{binding:<18} {key.api_key}")
    typer.echo("Swagger UI: http://127.0.0.1:8000/docs  (press Authorize and paste a key)")
    typer.echo("Platform `demo-delivery` is answered by `mutualaid platform-sim` (port 8100);")
    typer.echo("its demo rider: platform_worker_id rider-001, id_number 620102199005201237.")


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
