"""What every command shares: settings that exit cleanly when wrong, and a database to work on.

Commands import what they need inside their own bodies, so `mutualaid --help` (and a command that
needs little) starts without loading every feature package.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer

from app.core import event_loop
from app.core.config import ConfigurationError, Settings, get_settings
from app.core.db import CLI_CONNECTIONS, Database

T = TypeVar("T")


def settings_or_exit() -> Settings:
    """The settings, with the plan book they name installed; or exit 2 with the configuration
    problem (never a traceback)."""
    from app import plans
    from app.rules.plan import PlanError

    try:
        settings = get_settings()
        plans.install(plans.load(settings.plans_dir))
    except (ConfigurationError, PlanError) as exc:
        typer.echo(f"configuration error: {exc}", err=True)
        raise typer.Exit(2) from exc
    return settings


def with_db(work: Callable[[Database], Awaitable[T]], application_name: str = CLI_CONNECTIONS) -> T:
    """Run `work` on a database opened from the settings, and close it afterwards;
    `application_name` is how its connections show in pg_stat_activity."""
    from app.tables import import_all_models

    import_all_models()

    async def run() -> T:
        db = Database.from_settings(get_settings(), application_name)
        try:
            return await work(db)
        finally:
            await db.dispose()

    return event_loop.run(run())
