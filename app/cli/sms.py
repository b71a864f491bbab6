"""`mutualaid sms-sim`: an SMS gateway in one process, for demos and tests."""

from __future__ import annotations

from typing import Annotated

import typer

from app.cli.common import settings_or_exit


def sms_sim(
    port: Annotated[int, typer.Option(help="TCP port.")] = 8300,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    secret: Annotated[
        str | None,
        typer.Option(
            help="Checks our calls' signatures; default: the service's MUTUALAID_SMS_SECRET, or "
            "its development secret."
        ),
    ] = None,
) -> None:
    """Serve a simulated SMS gateway (POST /messages) that keeps what it received
    (GET /_sim/messages); steer it through /_sim/."""
    import uvicorn

    from app.notifications.simulator import create_sms_simulator

    # The service's own secret unless told otherwise, so a demo's two processes agree.
    key = secret.encode() if secret is not None else settings_or_exit().sms_secret_bytes() or b""
    typer.echo(f"SMS gateway simulator on http://{host}:{port}, messages at /_sim/messages")
    uvicorn.run(create_sms_simulator(key), host=host, port=port, log_level="warning")
