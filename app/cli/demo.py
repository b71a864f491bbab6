"""`mutualaid demo`: demo clients (their keys printed once), a demo platform, and a world of
members, a union batch, claims and payouts to look at."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from app.cli.common import settings_or_exit, with_db

if TYPE_CHECKING:
    from app.core.config import Settings
    from app.core.db import Database
    from app.demo.story import Told


def demo(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print only the keys, as JSON: {role: key}.")
    ] = False,
    platform_url: Annotated[
        str | None,
        typer.Option(
            help="Where `mutualaid platform-sim` answers for the demo platform "
            "(default http://127.0.0.1:8100; an existing demo platform keeps its URLs unless "
            "this is given)."
        ),
    ] = None,
) -> None:
    """Seed demo clients (one per role) and print their keys, and the first time a world to look
    at: covered members, a union batch, claims and payouts in every state. Refused in
    production."""
    from app.demo.seed import DemoKey, seed_demo
    from app.demo.story import world_seeded

    settings = settings_or_exit()
    if settings.is_production:
        typer.echo("demo data is refused in production mode", err=True)
        raise typer.Exit(2)
    from app.core.crypto import PersonalDataCipher

    cipher = PersonalDataCipher.from_settings(settings)

    async def clients_and_platform(db: Database) -> tuple[list[DemoKey], bool]:
        keys = await seed_demo(db, cipher, platform_url)
        async with db.reader() as session:
            return keys, await world_seeded(session)

    keys, seeded = with_db(clients_and_platform)
    told = None if seeded else _seed_world(settings, {key.role: key.api_key for key in keys})
    if as_json:
        typer.echo(json.dumps({key.role: key.api_key for key in keys}))
        return
    typer.echo("Demo API keys (send as `Authorization: Bearer <key>`; rerunning rotates them):")
    for key in keys:
        binding = f" [{key.org_code}]" if key.org_code else ""
        typer.echo(f"  {key.role:<12}{binding:<18} {key.api_key}")
    typer.echo("Swagger UI: http://127.0.0.1:8000/docs  (press Authorize and paste a key)")
    typer.echo("Platform `demo-delivery` is answered by `mutualaid platform-sim` (port 8100);")
    typer.echo("its demo rider: platform_worker_id rider-001, id_number 620102199005201237.")
    if told is None:
        typer.echo("The demo world was already there: nothing added.")
        return
    typer.echo(
        f"Demo world: {told.covered} covered members of demo-delivery (rider-101..., "
        f"rider-201...), a SH-PUDONG batch ({_counts(told.batch)}), claims "
        f"({_counts(told.claims)}), payouts ({_counts(told.payouts)}), {told.refunds} refund."
    )


def _seed_world(settings: Settings, keys: dict[str, str]) -> Told | None:
    """Four months of the service's life, lived in this process (app.demo.world)."""
    import asyncio

    from app.demo.story import seed_world
    from app.handlers import JOB_HANDLERS
    from app.main import create_app

    return asyncio.run(seed_world(create_app, settings, JOB_HANDLERS, keys))


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in counts.items() if n)
