"""The `mutualaid` command line."""

from __future__ import annotations

import typer

from app.cli import demo, gateway, platforms, reconcile, server, sms
from app.cli.clients import clients_cli
from app.cli.idempotency import idempotency_cli
from app.cli.keys import keys_cli
from app.cli.platforms import platforms_cli
from app.cli.privacy import privacy_cli
from app.cli.unions import unions_cli

cli = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
cli.command()(server.migrate)
cli.command()(server.serve)
cli.command()(server.worker)
cli.command("platform-sim")(platforms.platform_sim)
cli.command("gateway-sim")(gateway.gateway_sim)
cli.command("sms-sim")(sms.sms_sim)
cli.command()(reconcile.reconcile)
cli.command()(demo.demo)
cli.add_typer(clients_cli, name="clients")
cli.add_typer(platforms_cli, name="platforms")
cli.add_typer(unions_cli, name="unions")
cli.add_typer(idempotency_cli, name="idempotency")
cli.add_typer(keys_cli, name="keys")
cli.add_typer(privacy_cli, name="privacy")


def main() -> None:
    cli()
