"""A batch row whose name flips the text around it (U+202E) is rejected `invalid_name`."""

from __future__ import annotations

from tests.support.batches import RIDERS, row, submit


async def test_a_batch_row_with_an_unreadable_name_is_rejected(http, union, run_jobs):
    rows = [
        row("ok", RIDERS[30], "rider-30"),
        row("flip", RIDERS[31], "rider-31", name="\u202e三张"),
    ]
    batch = (await submit(http, union, rows)).json()
    await run_jobs()
    page = (await http.get(f"/v1/enrolment-batches/{batch['id']}/rows", headers=union)).json()

    assert [(r["ref"], r["outcome"], r["codes"]) for r in page["rows"]] == [
        ("ok", "accepted", []),
        ("flip", "rejected", ["invalid_name"]),
    ]
