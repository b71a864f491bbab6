"""The same migrations run on both databases, both ways, and match the models exactly."""

from __future__ import annotations

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from app.core.db import async_database_url
from app.core.migrate import downgrade, head_revision, upgrade
from app.core.models import Base
from tests.conftest import drop_database, fresh_database_url


async def _inspect(url: str):
    engine = create_async_engine(async_database_url(url), poolclass=NullPool)
    try:
        async with engine.connect() as conn:

            def look(sync_conn):
                context = MigrationContext.configure(sync_conn, opts={"compare_type": True})
                tables = set(inspect(sync_conn).get_table_names()) - {"alembic_version"}
                return (
                    tables,
                    context.get_current_revision(),
                    compare_metadata(context, Base.metadata),
                )

            return await conn.run_sync(look)
    finally:
        await engine.dispose()


async def test_upgrade_downgrade_upgrade_and_no_drift(backend, tmp_path):
    url = await fresh_database_url(backend, tmp_path, "migrations")
    expected_tables = set(Base.metadata.tables)
    try:
        await asyncio.to_thread(upgrade, url)
        tables, revision, _ = await _inspect(url)
        assert tables == expected_tables
        assert revision == head_revision()

        await asyncio.to_thread(downgrade, url, "base")
        tables, revision, _ = await _inspect(url)
        assert tables == set()
        assert revision is None

        await asyncio.to_thread(upgrade, url)
        tables, revision, differences = await _inspect(url)
        assert tables == expected_tables
        assert revision == head_revision()
        assert differences == [], f"models and migrations disagree: {differences}"
    finally:
        await drop_database(backend, url)
