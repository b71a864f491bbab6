"""`mutualaid gateway-sim`: a payment gateway in one process, for demos and tests."""

from __future__ import annotations

from typing import Annotated

import typer

from app.cli.common import settings_or_exit


def gateway_sim(
    port: Annotated[int, typer.Option(help="TCP port.")] = 8200,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    notify_url: Annotated[
        str, typer.Option(help="The service's base URL, where notifications are sent.")
    ] = "http://127.0.0.1:8000",
    secret: Annotated[
        str | None,
        typer.Option(
            help="Signs notifications and checks our calls; default: the service's first "
            "PAYMENT_NOTIFICATION_SECRETS, or its development secret."
        ),
    ] = None,
) -> None:
    """Serve a simulated payment gateway (POST /transfers, /refunds; GET /bills/DATE.csv), which
    sends the service its signed notifications; steer it through /_sim/."""
    import uvicorn

    from app.gateway.simulator import create_gateway_simulator

    # The service's own secret unless told otherwise, so a demo's two processes agree.
    key = secret.encode() if secret is not None else settings_or_exit().payment_secrets()[0]
    typer.echo(f"payment gateway simulator on http://{host}:{port}, notifying {notify_url}")
    uvicorn.run(
        create_gateway_simulator(notify_url, key), host=host, port=port, log_level="warning"
    )
