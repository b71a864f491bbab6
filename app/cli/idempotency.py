"""`mutualaid idempotency purge`: stored Idempotency-Key responses."""

from __future__ import annotations

from typing import Annotated

import typer

from app.cli.common import settings_or_exit, with_db
from app.core.db import Database

idempotency_cli = typer.Typer(no_args_is_help=True, help="Stored Idempotency-Key responses.")


@idempotency_cli.command("purge")
def idempotency_purge(
    older_than_hours: Annotated[
        int | None, typer.Option(help="Default: MUTUALAID_IDEMPOTENCY_RETENTION_HOURS.")
    ] = None,
) -> None:
    """Delete stored responses older than the retention, and claims abandoned for an hour."""
    from app.idempotency.service import purge_older_than

    settings = settings_or_exit()
    hours = older_than_hours or settings.idempotency_retention_hours

    async def work(db: Database) -> int:
        return await purge_older_than(db, hours)

    typer.echo(f"purged {with_db(work)} idempotency key(s) older than {hours} h")
