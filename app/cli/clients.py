"""`mutualaid clients ...`: API clients and their keys."""

from __future__ import annotations

import json
import uuid
from typing import Annotated

import typer

from app.cli.common import settings_or_exit, with_db
from app.clients.schemas import MAX_RATE_LIMIT
from app.core.db import Database
from app.core.policy import Role

clients_cli = typer.Typer(no_args_is_help=True, help="API clients and their keys.")


@clients_cli.command("create")
def clients_create(
    role: Annotated[Role, typer.Option(help="citizen_app, union, platform, examiner or admin.")],
    org: Annotated[str | None, typer.Option(help="Union org code or platform code.")] = None,
    name: Annotated[str | None, typer.Option(help="A name for people.")] = None,
    rate_limit: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=MAX_RATE_LIMIT,
            help="Requests a second per API process; default: the role's (README, Limits).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Create a client and print its API key (shown only this once)."""
    from app.clients.service import create_client
    from app.core.errors import ServiceError

    settings_or_exit()

    async def work(db: Database) -> dict[str, str | int | None]:
        async with db.writer() as session:
            issued = await create_client(
                session,
                role=role,
                name=name or f"{role.value}-{org or 'client'}",
                org_code=org,
                rate_limit_per_second=rate_limit,
            )
            await session.commit()
            c = issued.client
            return {
                "id": str(c.id),
                "name": c.name,
                "role": c.role,
                "org_code": c.org_code,
                "rate_limit_per_second": c.rate_limit_per_second,
                "api_key": issued.api_key,
            }

    try:
        created = with_db(work)
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

    settings_or_exit()

    async def work(db: Database) -> list[str]:
        async with db.reader() as session:
            return [
                f"{c.id}  {c.role:<11}  {c.org_code or '-':<16}  {c.key_prefix}…  "
                f"{c.rate_limit_per_second or 'role':>6}/s  {c.name}"
                + ("  (revoked)" if c.revoked_at else "")
                for c in await list_clients(session, include_revoked=include_revoked)
            ]

    for line in with_db(work):
        typer.echo(line)


@clients_cli.command("revoke")
def clients_revoke(client_id: uuid.UUID) -> None:
    """Revoke a client's key; it stops working immediately."""
    from app.clients.service import revoke_client
    from app.core.errors import NotFound

    settings_or_exit()

    async def work(db: Database) -> None:
        async with db.writer() as session:
            await revoke_client(session, client_id)
            await session.commit()

    try:
        with_db(work)
    except NotFound as exc:
        typer.echo("error: no such client", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"revoked {client_id}")
