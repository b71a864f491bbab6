"""`mutualaid demo`: demo clients, a demo platform, and their keys printed once."""

from __future__ import annotations

import typer

from app.cli.common import settings_or_exit, with_db


def demo() -> None:
    """Seed demo clients (one per role) and print their keys. Refused in production."""
    from app.demo.seed import seed_demo

    settings = settings_or_exit()
    if settings.is_production:
        typer.echo("demo data is refused in production mode", err=True)
        raise typer.Exit(2)
    from app.core.crypto import PersonalDataCipher

    cipher = PersonalDataCipher.from_settings(settings)
    keys = with_db(lambda db: seed_demo(db, cipher))
    typer.echo("Demo API keys (send as `Authorization: Bearer <key>`; rerunning rotates them):")
    for key in keys:
        binding = f" [{key.org_code}]" if key.org_code else ""
        typer.echo(f"  {key.role:<12}{binding:<18} {key.api_key}")
    typer.echo("Swagger UI: http://127.0.0.1:8000/docs  (press Authorize and paste a key)")
    typer.echo("Platform `demo-delivery` is answered by `mutualaid platform-sim` (port 8100);")
    typer.echo("its demo rider: platform_worker_id rider-001, id_number 620102199005201237.")
