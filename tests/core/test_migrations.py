"""The same migrations run on both databases, both ways, and match the models exactly."""

from __future__ import annotations

import asyncio
import os
import sys
from asyncio.subprocess import PIPE
from pathlib import Path

import asyncpg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from app.core.db import async_database_url
from app.core.migrate import downgrade, head_revision, upgrade
from app.core.models import Base
from tests.support.service import drop_database, fresh_database_url

MUTUALAID = str(Path(sys.executable).with_name("mutualaid"))
MIGRATION_LOCK = "mutualaid-migrate"


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


@pytest.mark.only_backend("postgresql")
async def test_a_migration_waits_for_one_already_running(backend, tmp_path):
    """Processes starting together migrate one at a time (an advisory lock in env.py)."""
    url = await fresh_database_url(backend, tmp_path, "race")
    holder = await asyncpg.connect(
        make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    )
    try:
        await holder.execute(f"SELECT pg_advisory_lock(hashtext('{MIGRATION_LOCK}'))")
        env = dict(os.environ) | {"DATABASE_URL": url, "MUTUALAID_VAR_DIR": str(tmp_path)}
        process = await asyncio.create_subprocess_exec(
            MUTUALAID, "migrate", env=env, stdout=PIPE, stderr=PIPE
        )
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(asyncio.shield(process.wait()), timeout=4)
        tables, revision, _ = await _inspect(url)
        assert revision is None, "it migrated while another migration held the lock"
        assert tables == set()

        await holder.execute(f"SELECT pg_advisory_unlock(hashtext('{MIGRATION_LOCK}'))")
        await asyncio.wait_for(process.wait(), timeout=60)
        assert process.returncode == 0
        _tables, revision, differences = await _inspect(url)
        assert revision == head_revision()
        assert differences == []
    finally:
        await holder.close()
        await drop_database(backend, url)
