"""`mutualaid keys ...`: moving stored data to new keys (DATA_KEY, LOOKUP_KEY)."""

from __future__ import annotations

from typing import Annotated

import typer

from app.cli.common import settings_or_exit, with_db

keys_cli = typer.Typer(no_args_is_help=True, help="Rotation of DATA_KEY and LOOKUP_KEY.")

_SHOWN = 20


@keys_cli.command("reencrypt")
def keys_reencrypt(
    batch_size: Annotated[int, typer.Option(min=1, max=10_000, help="Rows per transaction.")] = 500,
    check: Annotated[
        bool, typer.Option("--check", help="Only count what is not under DATA_KEY yet.")
    ] = False,
) -> None:
    """Rewrite every encrypted value under the current DATA_KEY, online.

    Run it once every process has the new DATA_KEY and the old one in DATA_KEYS_RETIRED. Safe
    beside the running service: each batch is a short transaction and each row is rewritten
    from its current value by a compare-and-set, so a row changed meanwhile is read again, and
    a row written meanwhile is already under the new key. Safe to stop and run again: only
    values not yet under DATA_KEY are read. Exits 0 when none is left; then the retired key
    can be removed.
    """
    from app.core.crypto import PersonalDataCipher
    from app.core.db import Database
    from app.keys.columns import ENCRYPTED
    from app.keys.reencrypt import count_stale, reencrypt

    settings = settings_or_exit()
    cipher = PersonalDataCipher.from_settings(settings)

    if check:

        async def count(db: Database) -> dict[str, int]:
            left: dict[str, int] = {}
            for spec in ENCRYPTED:
                for name, n in (await count_stale(db, cipher, spec)).items():
                    left[spec.label(name)] = n
            return left

        left = with_db(count)
        for label, n in left.items():
            typer.echo(f"{label}: {n} not under DATA_KEY")
        total = sum(left.values())
        typer.echo(f"{total} value(s) not under DATA_KEY")
        raise typer.Exit(1 if total else 0)

    report = with_db(lambda db: reencrypt(db, cipher, batch_size=batch_size))
    for column in report.columns:
        typer.echo(f"{column.column}: {column.rewritten} rewritten, {column.left} left")
    typer.echo(f"rewritten {report.rewritten} value(s); {report.left} not under DATA_KEY")
    for line in report.unreadable[:_SHOWN]:
        typer.echo(f"cannot decrypt {line}", err=True)
    if len(report.unreadable) > _SHOWN:
        typer.echo(f"... and {len(report.unreadable) - _SHOWN} more", err=True)
    if report.left:
        typer.echo(
            "some values are not under DATA_KEY yet: keep DATA_KEYS_RETIRED"
            + (f" ({report.contended} row(s) kept changing: run again)" if report.contended else "")
            + (
                "; a process running with another DATA_KEY may still be writing"
                if not report.unreadable and not report.contended
                else ""
            ),
            err=True,
        )
        raise typer.Exit(1)
    typer.echo("every value is under DATA_KEY: DATA_KEYS_RETIRED can be emptied")


@keys_cli.command("rehash")
def keys_rehash(
    previous_lookup_key: Annotated[
        str,
        typer.Option(
            envvar="PREVIOUS_LOOKUP_KEY",
            help="The LOOKUP_KEY the hashes were made with (better given as the variable).",
            show_default=False,
        ),
    ],
    batch_size: Annotated[
        int, typer.Option(min=1, max=10_000, help="Members per transaction.")
    ] = 1000,
) -> None:
    """Recompute every look-up hash under the current LOOKUP_KEY, offline.

    Stop the API and every job worker first; start them with the new LOOKUP_KEY afterwards.
    Offline because the unique ID-number hash is what keeps a person from enrolling twice, and
    it cannot while processes hash under two keys. Safe to run again after an interruption:
    hashes already under LOOKUP_KEY are left alone; a hash under neither key stops the run
    before its batch is written.
    """
    from app.core.config import ConfigurationError, decode_key
    from app.core.crypto import PersonalDataCipher
    from app.keys.rehash import RehashRefused, rehash

    settings = settings_or_exit()
    try:
        previous = decode_key(previous_lookup_key, "PREVIOUS_LOOKUP_KEY")
    except ConfigurationError as exc:
        typer.echo(f"configuration error: {exc}", err=True)
        raise typer.Exit(2) from exc
    cipher = PersonalDataCipher.from_settings(settings)
    try:
        report = with_db(lambda db: rehash(db, cipher, previous, batch_size=batch_size))
    except RehashRefused as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"members: {report.rehashed} rehashed, {report.current} already under LOOKUP_KEY")
