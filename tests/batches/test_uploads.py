"""Files that are not what the contract says are refused whole, with a code, and store nothing;
rows whose values are wrong are only rejected rows."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from app.batches.models import EnrolmentBatch
from app.jobs.models import Job
from tests.support.batches import PLAN, RIDERS, as_csv, row, submit, submit_csv


async def nothing_stored(db) -> bool:
    async with db.reader() as session:
        batches = await session.scalar(select(func.count()).select_from(EnrolmentBatch))
        jobs = await session.scalar(select(func.count()).select_from(Job))
    return batches == 0 and jobs == 0


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"ref,id_number,name\r\nx,y,z\r\n", 422, "invalid_header"),
        (as_csv([row("a", RIDERS[0], "rider-0", nickname="x")]), 422, "invalid_header"),
        (as_csv([row("a", RIDERS[0], "rider-0")])[:-2].replace(b"\r\n", b"\r\n", 1), 202, None),
        (b"\xff\xfe" + "ref".encode("utf-16-le"), 422, "invalid_encoding"),
        (as_csv([row("a", RIDERS[0], "rider-0")]).split(b"\r\n")[0] + b"\r\n", 422, "empty_batch"),
        (b'ref,id_number\r\n"unterminated\x00', 422, "invalid_header"),
    ],
    ids=["missing-columns", "unknown-column", "no-final-newline", "utf16", "no-rows", "junk"],
)
async def test_csv_files_not_in_the_contracts_shape(http, union, db, body, status, code):
    response = await submit_csv(http, union, body)
    assert response.status_code == status, response.text
    if code:
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == code
        assert await nothing_stored(db)


async def test_a_header_problem_names_the_columns(http, union):
    body = as_csv([row("a", RIDERS[0], "rider-0") | {"nickname": "x"}])
    body = body.replace(b"union_member_number,", b"")
    problem = (await submit_csv(http, union, body)).json()
    assert problem["unknown_columns"] == ["nickname"]
    assert "union_member_number" in problem["missing_columns"]


async def test_a_csv_upload_needs_a_plan_and_a_known_one(http, union, db):
    body = as_csv([row("a", RIDERS[0], "rider-0")])
    assert (await submit_csv(http, union, body, plan=None)).json()["code"] == "plan_code_required"
    unknown = await submit_csv(http, union, body, key="k2", plan="nowhere-plan")
    assert (unknown.status_code, unknown.json()["code"]) == (422, "plan_unknown")
    assert await nothing_stored(db)


async def test_json_with_wrong_types_or_unknown_fields_lists_the_problems(http, union, db):
    rows = [row("a", RIDERS[0], "rider-0"), row("b", RIDERS[1], "rider-1", phone=13912345678)]
    rows.append(row("c", RIDERS[2], "rider-2") | {"hukou": "gansu"})
    del rows[0]["union_member_number"]
    response = await submit(http, union, rows)
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "invalid_batch"
    assert {(e["field"], e["code"]) for e in problem["errors"]} == {
        ("rows.0.union_member_number", "required"),
        ("rows.1.phone", "string_type"),
        ("rows.2.hukou", "unknown_field"),
    }
    assert "13912345678" not in response.text
    assert await nothing_stored(db)


async def test_empty_and_non_json_bodies(http, union, db):
    empty = await http.post(
        "/v1/enrolment-batches",
        json={"plan_code": PLAN, "rows": []},
        headers=union | {"Idempotency-Key": "e"},
    )
    assert (empty.status_code, empty.json()["errors"][0]["field"]) == (422, "rows")
    text = await http.post(
        "/v1/enrolment-batches",
        content=b"hello",
        headers=union | {"Idempotency-Key": "t", "Content-Type": "text/plain"},
    )
    assert (text.status_code, text.json()["code"]) == (415, "unsupported_media_type")
    assert await nothing_stored(db)


@pytest.mark.only_backend("sqlite")
async def test_more_than_100000_rows_is_refused(http, union, db):
    line = b"r,310101199001011234,x,13912345678,demo-delivery,w,food_delivery,1\r\n"
    header = as_csv([row("a", RIDERS[0], "rider-0")]).split(b"\r\n")[0] + b"\r\n"
    response = await submit_csv(http, union, header + line * 100_001)
    assert (response.status_code, response.json()["code"]) == (413, "too_many_rows")
    assert await nothing_stored(db)


async def test_row_values_that_a_form_would_stop_reject_only_that_row(http, union, run_jobs):
    rows = [
        row("ok", RIDERS[0], "rider-0"),
        row("blank", "", "rider-1", name="  "),
        row("long", RIDERS[2], "rider-2", name="很" * 51),
        row("phone", RIDERS[3], "rider-3", phone="12345"),
        row("member", RIDERS[4], "rider-4", union_member_number=""),
        row("both", "123", "rider-5", phone="1"),
    ]
    batch = (await submit(http, union, rows)).json()
    await run_jobs()
    page = (await http.get(f"/v1/enrolment-batches/{batch['id']}/rows", headers=union)).json()
    assert [(r["ref"], r["outcome"], r["codes"]) for r in page["rows"]] == [
        ("ok", "accepted", []),
        ("blank", "rejected", ["missing_id_number", "missing_name"]),
        ("long", "rejected", ["name_too_long"]),
        ("phone", "rejected", ["invalid_phone"]),
        ("member", "rejected", ["missing_union_member_number"]),
        ("both", "rejected", ["invalid_phone", "invalid_id_number"]),
    ]


async def test_a_csv_row_with_the_wrong_number_of_cells_is_rejected(http, union, run_jobs):
    body = as_csv([row("ok", RIDERS[0], "rider-0"), row("short", RIDERS[1], "rider-1")])
    body = body.rstrip(b"\r\n").rsplit(b",", 1)[0] + b"\r\n"
    batch = (await submit_csv(http, union, body)).json()
    await run_jobs()
    page = (await http.get(f"/v1/enrolment-batches/{batch['id']}/rows", headers=union)).json()
    assert [r["codes"] for r in page["rows"]] == [
        [],
        ["wrong_column_count", "missing_union_member_number"],
    ]


async def test_a_platform_that_cannot_answer_rejects_its_rows_as_unavailable(http, union, run_jobs):
    rows = [
        row("ok", RIDERS[0], "rider-0"),
        row("slow", RIDERS[1], "rider-1", platform_code="slow-delivery"),
    ]
    batch = (await submit(http, union, rows)).json()
    await run_jobs()
    page = (await http.get(f"/v1/enrolment-batches/{batch['id']}/rows", headers=union)).json()
    assert [(r["outcome"], r["codes"]) for r in page["rows"]] == [
        ("accepted", []),
        ("rejected", ["platform_unavailable"]),
    ]


async def test_the_cursor_pages_and_the_filter_selects(http, union, run_jobs):
    rows = [row(f"r{i}", n, f"rider-{i}") for i, n in enumerate(RIDERS[:7])]
    rows[3]["phone"] = "nope"
    batch = (await submit(http, union, rows)).json()
    await run_jobs()
    url = f"/v1/enrolment-batches/{batch['id']}/rows"
    first = (await http.get(url, params={"limit": 4}, headers=union)).json()
    assert [r["row_number"] for r in first["rows"]] == [1, 2, 3, 4]
    rest = await http.get(url, params={"limit": 4, "cursor": first["next_cursor"]}, headers=union)
    assert [r["row_number"] for r in rest.json()["rows"]] == [5, 6, 7]
    assert rest.json()["next_cursor"] is None
    rejected = (await http.get(url, params={"outcome": "rejected"}, headers=union)).json()
    assert [r["row_number"] for r in rejected["rows"]] == [4]
    bad = await http.get(url, params={"cursor": "abc"}, headers=union)
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid_cursor")


@pytest.mark.only_backend("postgresql")
async def test_two_batches_racing_for_the_same_people_enrol_each_once(
    http, union, other_union, run_jobs, app, db
):
    from app.handlers import JOB_HANDLERS
    from app.jobs.worker import Worker
    from app.members.models import Member

    people = [row(f"r{i}", n, f"rider-{i}") for i, n in enumerate(RIDERS[:30])]
    await submit(http, union, people, key="a")
    await submit(http, other_union, list(reversed(people)), key="b")
    workers = [Worker(app.state.runtime, JOB_HANDLERS, name=f"w{i}") for i in range(2)]
    assert all(await asyncio.gather(*(w.run_once() for w in workers)))

    async with db.reader() as session:
        members = await session.scalar(select(func.count()).select_from(Member))
        batches = (await session.scalars(select(EnrolmentBatch))).all()
    assert members == 30
    # Whichever chunk wrote a person first enrolled them; the other found them enrolled.
    assert sum(b.accepted for b in batches) == 30
    assert [b.accepted + b.duplicate for b in batches] == [30, 30]
