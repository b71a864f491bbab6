"""An upload is read as it arrives: a process reads a few at once and answers 503 beyond them;
a file refused anywhere, even after chunks of it were stored, leaves nothing behind; and the
upload's Idempotency-Key holds for a body only known at its end."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace

import pytest

from app.batches.slots import UploadSlots
from tests.batches.test_uploads import nothing_stored
from tests.support.batches import PLAN, RIDERS, as_csv, row, submit, submit_csv


async def test_an_upload_beyond_what_the_process_reads_at_once_is_503_with_retry_after(
    http, union, app, monkeypatch
):
    monkeypatch.setattr(app.state, "upload_slots", UploadSlots(1))
    body = as_csv([row("a", RIDERS[0], "rider-0"), row("b", RIDERS[1], "rider-1")])
    go_on = asyncio.Event()

    async def slow_body():
        yield body[:40]
        await go_on.wait()
        yield body[40:]

    first = asyncio.create_task(
        http.post(
            "/v1/enrolment-batches",
            content=slow_body(),
            params={"plan_code": PLAN},
            headers=union | {"Idempotency-Key": "slow", "Content-Type": "text/csv"},
        )
    )
    await asyncio.sleep(0.2)  # the first upload is being read
    busy = await submit_csv(http, union, body, key="second")
    assert busy.status_code == 503
    assert busy.headers["content-type"] == "application/problem+json"
    assert busy.json()["code"] == "too_many_uploads"
    assert int(busy.headers["Retry-After"]) > 0

    go_on.set()
    assert (await first).status_code == 202
    again = await submit_csv(http, union, body, key="second")
    assert again.status_code == 202, again.text


async def test_a_file_refused_after_some_of_it_was_stored_leaves_nothing(http, union, app, db):
    runtime = app.state.runtime
    app.state.runtime = replace(
        runtime, settings=runtime.settings.model_copy(update={"batch_chunk_rows": 2})
    )
    rows = [row(f"r{i}", number, f"rider-{i}") for i, number in enumerate(RIDERS[:9])]
    rows[-1]["ref"] = "x" * 65  # not in the contract's shape, in the file's last chunk
    refused = await submit_csv(http, union, as_csv(rows))
    assert (refused.status_code, refused.json()["code"]) == (422, "invalid_batch")
    assert await nothing_stored(db)

    rows[-1]["ref"] = "r8"  # the same key with the corrected file: a new batch
    corrected = await submit_csv(http, union, as_csv(rows))
    assert corrected.status_code == 202, corrected.text
    assert (corrected.json()["total"], corrected.json()["status"]) == (9, "queued")


async def test_a_json_body_may_name_its_plan_after_its_rows(http, union, run_jobs):
    rows = [row("a", RIDERS[0], "rider-0"), row("b", RIDERS[1], "rider-1")]
    body = '{"rows": ' + json.dumps(rows) + ', "plan_code": "' + PLAN + '"}'
    created = await http.post(
        "/v1/enrolment-batches",
        content=body.encode(),
        headers=union | {"Idempotency-Key": "plan-last", "Content-Type": "application/json"},
    )
    assert created.status_code == 202, created.text
    assert created.json()["total"] == 2
    await run_jobs()
    done = (await http.get(created.headers["Location"], headers=union)).json()
    assert (done["status"], done["accepted"]) == ("done", 2)


async def test_the_same_batch_sent_again_in_another_layout_replays_and_another_is_refused(
    http, union, db
):
    rows = [row("a", RIDERS[0], "rider-0"), row("b", RIDERS[1], "rider-1")]
    first = await submit(http, union, rows, key="k")
    relaid = await http.post(
        "/v1/enrolment-batches",
        content=json.dumps({"rows": rows, "plan_code": PLAN}, indent=2).encode(),
        headers=union | {"Idempotency-Key": "k", "Content-Type": "application/json"},
    )
    assert (relaid.status_code, relaid.json()["id"]) == (202, first.json()["id"])
    assert relaid.headers["Idempotent-Replayed"] == "true"

    other = await submit(http, union, rows[:1], key="k")
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")
    csv_one = await submit_csv(http, union, as_csv(rows), key="c")
    csv_other = await submit_csv(http, union, as_csv(rows[:1]), key="c")
    assert csv_one.status_code == 202
    assert (csv_other.status_code, csv_other.json()["code"]) == (422, "idempotency_key_reused")


@pytest.mark.parametrize("content_type", ["text/csv", "application/json"])
async def test_a_body_cut_anywhere_reads_the_same(http, union, content_type):
    """The body arrives in pieces of any size, cut inside characters and lines."""
    rows = [row(f"r{i}", number, f"rider-{i}") for i, number in enumerate(RIDERS[:5])]
    rows[2]["name"] = "欧阳娜娜"
    body = (
        as_csv(rows, bom=True)
        if content_type == "text/csv"
        else json.dumps({"plan_code": PLAN, "rows": rows}, ensure_ascii=False).encode()
    )

    async def in_pieces(size: int):
        for start in range(0, len(body), size):
            yield body[start : start + size]

    for size in (1, 7, 4096):
        created = await http.post(
            "/v1/enrolment-batches",
            content=in_pieces(size),
            params={"plan_code": PLAN},
            headers=union | {"Idempotency-Key": f"cut-{size}", "Content-Type": content_type},
        )
        assert (created.status_code, created.json()["total"]) == (202, 5), created.text
