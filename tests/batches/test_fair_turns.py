"""Unions take turns at the job workers, on both databases: a union's small batch sent after
another union's large one is not kept waiting until the large one is done."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.support.batches import RIDERS, row, submit
from tests.support.jobs import run_jobs_but_messages

CHUNK_ROWS = 2
LARGE_CHUNKS = 3


@pytest.fixture
def app(app):
    runtime = app.state.runtime
    settings = runtime.settings.model_copy(update={"batch_chunk_rows": CHUNK_ROWS})
    app.state.runtime = replace(runtime, settings=settings)
    return app


async def status(http, headers, batch_id: str) -> str:
    shown = await http.get(f"/v1/enrolment-batches/{batch_id}", headers=headers)
    assert shown.status_code == 200, shown.text
    return shown.json()["status"]


async def test_a_small_batch_goes_in_turn_with_a_large_one_sent_before(
    http, app, union, other_union
):
    riders = [(f"r{i}", number, f"rider-{i}") for i, number in enumerate(RIDERS)]
    large = await submit(
        http, union, [row(*r) for r in riders[: CHUNK_ROWS * LARGE_CHUNKS]], key="large"
    )
    small = await submit(http, other_union, [row(*riders[-1])], key="small")
    assert (large.status_code, small.status_code) == (202, 202)

    # One chunk of the large batch, then the small batch's only chunk.
    assert await run_jobs_but_messages(app, limit=2) == 2

    assert await status(http, other_union, small.json()["id"]) == "done"
    assert await status(http, union, large.json()["id"]) == "running"
