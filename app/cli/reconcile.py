"""`mutualaid reconcile FILE --date D`: the finance office's reconciliation from the command line,
the same run the API makes, done at once and its differences printed."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from app.cli.common import settings_or_exit


def reconcile(
    bill: Annotated[Path, typer.Argument(help="The gateway's bill, CSV.", exists=True)],
    day: Annotated[str, typer.Option("--date", help="The bill's Shanghai day, YYYY-MM-DD.")],
) -> None:
    """Match a day's gateway bill against the service's records; print the differences."""
    import asyncio

    from app.core.runtime import Runtime
    from app.reconciliation import service
    from app.tables import import_all_models

    try:
        business_date = date.fromisoformat(day)
    except ValueError as exc:
        typer.echo("error: --date must be YYYY-MM-DD", err=True)
        raise typer.Exit(2) from exc
    import_all_models()
    runtime = Runtime.from_settings(settings_or_exit())

    async def work() -> None:
        try:
            async with runtime.db.writer() as session:
                run, _ = await service.submit(
                    session, business_date, bill.read_bytes(), "upload", None
                )
                await session.commit()
            await service.reconcile(runtime, run.id)
            async with runtime.db.reader() as session:
                run = await service.get(session, run.id)
                shown = service.out(run)
                page = await service.lines(session, run.id, 1000, None)
        finally:
            await runtime.close()
        typer.echo(
            f"reconciliation {shown.id} of {shown.date}: {shown.status}, {shown.bill_lines} bill "
            f"line(s), {shown.our_entries} of ours, {shown.matched} matched, "
            f"{shown.differences} difference(s)"
        )
        for line in page.items:
            typer.echo(
                f"{line.kind}\t{line.line_kind}\t{line.our_ref}\tbill={line.bill_fen}"
                f"\tours={line.ours_fen}"
            )
        if shown.status == "failed":
            typer.echo(f"error: {shown.error}", err=True)
            raise typer.Exit(1)

    asyncio.run(work())
