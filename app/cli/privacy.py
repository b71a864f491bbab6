"""`mutualaid privacy erase-expired`: erase the members whose retention period has run out, now
(the job workers also do it daily)."""

from __future__ import annotations

import typer

from app.cli.common import settings_or_exit

privacy_cli = typer.Typer(help="Personal data: erasure after the retention period.")


@privacy_cli.command("erase-expired")
def erase_expired() -> None:
    """Erase the identity and health facts of every member past MUTUALAID_RETENTION_DAYS."""
    import asyncio

    from app.core.runtime import Runtime
    from app.privacy import erasure
    from app.tables import import_all_models

    settings = settings_or_exit()
    if settings.retention_days is None:
        typer.echo("error: MUTUALAID_RETENTION_DAYS is not set; nothing is erased", err=True)
        raise typer.Exit(2)
    import_all_models()
    runtime = Runtime.from_settings(settings)

    async def work() -> int:
        try:
            return await erasure.erase_expired(runtime)
        finally:
            await runtime.close()

    erased = asyncio.run(work())
    typer.echo(f"{erased} member(s) erased (retention {settings.retention_days} days)")
