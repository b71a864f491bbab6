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

    from app.core.clock import Clock
    from app.gateway.simulator import create_gateway_simulator

    settings = settings_or_exit()
    # The service's own secret unless told otherwise, and its clock (`MUTUALAID_CLOCK`), so that
    # a demo's two processes agree on both: a transfer is paid on the service's today.
    key = secret.encode() if secret is not None else settings.payment_secrets()[0]
    clock = Clock(settings.clock)
    typer.echo(f"payment gateway simulator on http://{host}:{port}, notifying {notify_url}")
    uvicorn.run(
        create_gateway_simulator(notify_url, key, now=clock.now),
        host=host,
        port=port,
        log_level="warning",
    )
