"""What a coverage look-up asks of the database: one statement, on PostgreSQL on a connection
of the look-ups' own asyncpg pool, which survives its connections being killed while idle."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event, text

from app.core.direct_reads import APPLICATION_NAME, DirectReads


@pytest.fixture
def statements(app, monkeypatch):
    """Statements the app sends to the database, whichever way they go."""
    db = app.state.runtime.db
    sent: list[str] = []

    def counted(_conn, _cursor, statement, *_):
        if not statement.startswith("BEGIN"):  # SQLite's, issued as statements
            sent.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", counted)
    if db.direct is not None:
        fetch = DirectReads.fetch

        async def counted_fetch(self, statement, params):
            sent.append(statement.sql)
            return await fetch(self, statement, params)

        monkeypatch.setattr(DirectReads, "fetch", counted_fetch)
    yield sent
    event.remove(db.engine.sync_engine, "before_cursor_execute", counted)


async def test_a_bulk_query_of_1000_ids_is_one_statement(http, worker, delivery, statements):
    mine = await worker()
    asked = [mine] + [f"filler-{n}" for n in range(999)]
    warm = await http.get(f"/v1/platform/workers/{mine}/coverage", headers=delivery)
    assert warm.status_code == 200  # the key is now known to the process
    statements.clear()

    response = await http.post(
        "/v1/platform/coverage-queries", json={"worker_ids": asked}, headers=delivery
    )
    single = await http.get(f"/v1/platform/workers/{mine}/coverage", headers=delivery)

    assert response.status_code == 200
    assert single.status_code == 200
    assert [r["covered"] for r in response.json()["results"]] == [True] + [False] * 999
    assert len(statements) == 2, statements  # one each


@pytest.mark.only_backend("postgresql")
async def test_lookup_connections_killed_while_idle_are_replaced_unseen(http, worker, delivery, db):
    """`db` is the suite's database: its connections are not the ones killed."""
    worker_id = await worker()
    path = f"/v1/platform/workers/{worker_id}/coverage"
    assert (await http.get(path, headers=delivery)).json()["covered"] is True
    async with db.engine.connect() as connection:
        killed = await connection.scalar(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = :name AND datname = current_database()"
            ),
            {"name": APPLICATION_NAME},
        )
        for _ in range(200):  # the backends exit a moment after the signal
            left = await connection.scalar(
                text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :name"),
                {"name": APPLICATION_NAME},
            )
            if not left:
                break
            await asyncio.sleep(0.01)
    assert killed >= 1

    response = await http.get(path, headers=delivery)

    assert response.status_code == 200, response.text
    assert response.json()["covered"] is True
