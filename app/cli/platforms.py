"""`mutualaid platforms add` and `mutualaid platform-sim`: partner platforms, real and simulated."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from app.cli.common import settings_or_exit, with_db
from app.core.db import Database

platforms_cli = typer.Typer(no_args_is_help=True, help="Partner platforms.")


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
    from app.platforms.service import add_platform, check_verification_urls

    settings = settings_or_exit()
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
        await check_verification_urls(settings, data.verify_url, data.bulk_verify_url)
        async with db.writer() as session:
            await add_platform(session, cipher, data, None)
            await session.commit()

    try:
        with_db(work)
    except ServiceError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"platform {code} registered")


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

    from app.core.clock import Clock
    from app.platforms.simulator import (
        DEMO_WORKERS_FILE,
        create_simulator,
        load_workers,
        synthetic_workers,
    )

    seed = synthetic_workers(synthetic) if synthetic else load_workers(workers or DEMO_WORKERS_FILE)
    typer.echo(f"platform simulator with {len(seed)} worker(s) on http://{host}:{port}/verify")
    # The service's clock (`MUTUALAID_CLOCK`), so that recent orders are recent on its today.
    clock = Clock(settings_or_exit().clock)
    uvicorn.run(
        create_simulator(seed, credential, now=clock.now),
        host=host,
        port=port,
        log_level="warning",
    )
