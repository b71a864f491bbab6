"""`mutualaid unions set-account`: where a district union's payouts go (deaths without a
beneficiary, as the plan says). Payouts that waited for it move on."""

from __future__ import annotations

from typing import Annotated

import typer

from app.cli.common import settings_or_exit, with_db
from app.core.db import Database

unions_cli = typer.Typer(no_args_is_help=True, help="District unions.")


@unions_cli.command("set-account")
def set_account(
    org: Annotated[str, typer.Option(help="The union's org code, e.g. SH-PUDONG.")],
    kind: Annotated[str, typer.Option(help="bank or alipay.")],
    account_no: Annotated[str, typer.Option(help="Account number.")],
    holder_name: Annotated[str, typer.Option(help="Account holder, as the bank knows it.")],
    bank_name: Annotated[str | None, typer.Option(help="Bank, for a bank account.")] = None,
) -> None:
    """Set (or replace) a union's payout account; it is stored encrypted and shown masked."""
    from pydantic import ValidationError

    from app.core.crypto import PersonalDataCipher
    from app.payouts import accounts, lifecycle

    settings = settings_or_exit()
    try:
        account = accounts.PayeeAccountIn(
            kind=kind,
            account_no=account_no,
            holder_name=holder_name,
            bank_name=bank_name,
        )
    except ValidationError as exc:
        fields = ", ".join(".".join(map(str, e["loc"])) for e in exc.errors())
        typer.echo(f"error: invalid {fields}", err=True)
        raise typer.Exit(1) from exc
    sealed = accounts.seal(PersonalDataCipher.from_settings(settings), account)

    async def work(db: Database) -> int:
        async with db.writer() as session:
            owner = accounts.union_owner(org)
            await accounts.store(session, owner, sealed, None)
            released = await lifecycle.account_set(session, owner, sealed)
            await session.commit()
        return released

    released = with_db(work)
    typer.echo(f"union {org}: payouts go to {sealed.masked}; {released} waiting payout(s) released")
