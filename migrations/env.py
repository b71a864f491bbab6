"""Alembic environment: the same migrations on SQLite and PostgreSQL, through the async drivers.

SQLite alters tables by copying them (`render_as_batch`), so this engine deliberately does not
enable foreign keys: a table copy with foreign keys on would cascade deletes into child tables.
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from app.core.config import get_settings
from app.core.db import async_database_url, sqlite_path
from app.core.models import UTCDateTime
from app.tables import import_all_models

target_metadata = import_all_models()


def _url() -> str:
    url = context.config.get_main_option("sqlalchemy.url") or get_settings().database_url
    return async_database_url(url)


def _render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Write project column types as plain SQLAlchemy ones: migrations must not import app code,
    which changes after the migration is written."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Several processes or hosts may start at once: one migrates, the others wait here
            # and then find the schema already at head.
            connection.execute(text("SELECT pg_advisory_xact_lock(hashtext('mutualaid-migrate'))"))
        context.run_migrations()


async def _run_async() -> None:
    url = _url()
    path = sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, poolclass=NullPool, hide_parameters=True)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_async())
