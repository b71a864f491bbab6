"""Union batches over HTTP, on both databases: outcomes per row, progress, the invoice, and the
payment that starts cover for exactly the accepted rows."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import func, select

from app.batches.models import BatchChunk
from app.coverage.models import CoveragePeriodRecord
from app.enrolment.models import Enrolment
from app.handlers import JOB_HANDLERS
from app.jobs.worker import Worker
from app.members.models import Member
from app.payments.models import Refund
from tests.support.batches import BEIJING, RIDERS, as_csv, row, submit, submit_csv
from tests.support.enrolment import (
    GANSU,
    IDLE,
    TURNS_60_TODAY,
    TURNS_60_TOMORROW,
    application,
    apply,
)
from tests.support.payments import notification, notify

BAD_CHECK_DIGIT = GANSU[:-1] + ("0" if GANSU[-1] != "0" else "1")

# (row, expected outcome, expected codes, duplicate_of_row)
MIXED = [
    (row("r01", GANSU, "rider-gansu"), "accepted", [], None),
    (row("r02", TURNS_60_TODAY, "rider-60"), "rejected", ["age_limit"], None),
    (row("r03", BAD_CHECK_DIGIT, "rider-x"), "rejected", ["invalid_id_number"], None),
    (
        row("r04", RIDERS[1], "rider-1", work_city="beijing"),
        "rejected",
        ["work_city_not_covered"],
        None,
    ),
    (row("r05", BEIJING, "rider-bj"), "rejected", ["platform_work_not_verified"], None),
    (row("r06", GANSU, "rider-other"), "duplicate", ["duplicate_in_file"], 1),
    (row("r07", TURNS_60_TOMORROW, "rider-59"), "duplicate", ["already_enrolled"], None),
    (row("r08", IDLE, "rider-idle"), "rejected", ["platform_work_not_verified"], None),
    (row("r09", RIDERS[2], "rider-2", phone=""), "rejected", ["missing_phone"], None),
    (
        row("r10", RIDERS[3], "rider-3", platform_code="nobody"),
        "rejected",
        ["platform_unknown"],
        None,
    ),
    (
        row("r11", RIDERS[4], "rider-4", work_type="cooking"),
        "rejected",
        ["work_type_not_covered"],
        None,
    ),
    (row("r12", RIDERS[5], "rider-gansu"), "rejected", ["platform_worker_taken"], None),
    (row("r13", RIDERS[6], "rider-6"), "accepted", [], None),
    (row("r14", RIDERS[7].lower(), "rider-7", phone="+8613700000000"), "accepted", [], None),
    # r09 corrected: a refused row does not make its later correction a duplicate.
    (row("r15", RIDERS[2], "rider-2"), "accepted", [], None),
]


async def enrol_individually(http, citizen, id_no, worker_id):
    response = await apply(http, citizen, application(id_no, worker_id))
    assert response.status_code == 201, response.text


async def all_rows(http, headers, batch_id, **params) -> list[dict]:
    rows, cursor = [], None
    while True:
        query = params | ({"cursor": cursor} if cursor else {})
        page = await http.get(
            f"/v1/enrolment-batches/{batch_id}/rows", params=query, headers=headers
        )
        assert page.status_code == 200, page.text
        rows += page.json()["rows"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return rows


async def test_a_mixed_file_gives_each_row_its_outcome(http, union, citizen, run_jobs, db):
    await enrol_individually(http, citizen, TURNS_60_TOMORROW, "rider-59")

    created = await submit(http, union, [r for r, *_ in MIXED])
    assert created.status_code == 202, created.text
    batch = created.json()
    assert (batch["status"], batch["total"], batch["processed"]) == ("queued", len(MIXED), 0)
    assert created.headers["Location"] == f"/v1/enrolment-batches/{batch['id']}"

    assert await run_jobs() == 1  # 15 rows: one chunk
    done = (await http.get(f"/v1/enrolment-batches/{batch['id']}", headers=union)).json()
    assert done["status"] == "done"
    assert (done["processed"], done["accepted"], done["rejected"], done["duplicate"]) == (
        15,
        4,
        9,
        2,
    )

    rows = await all_rows(http, union, batch["id"], limit=5)
    assert [r["row_number"] for r in rows] == list(range(1, 16))
    for got, (sent, outcome, codes, duplicate_of) in zip(rows, MIXED, strict=True):
        assert (got["ref"], got["outcome"], got["codes"]) == (sent["ref"], outcome, codes), got
        assert got["duplicate_of_row"] == duplicate_of
        assert (got["enrolment_id"] is not None) == (outcome == "accepted")
    text = str(rows)
    for personal in ("王小明", GANSU, "13912345678"):
        assert personal not in text


async def test_accepted_rows_become_members_with_union_numbers_and_open_applications(
    http, union, run_jobs, db
):
    await submit(http, union, [r for r, *_ in MIXED])
    await run_jobs()

    async with db.reader() as session:
        members = (await session.scalars(select(Member))).all()
        enrolments = (await session.scalars(select(Enrolment))).all()
        chunks = (await session.scalars(select(BatchChunk))).all()
    # Nobody enrolled r07's person before: here that row is accepted.
    assert sorted(m.union_member_number for m in members) == [
        "HP-r01",
        "HP-r07",
        "HP-r13",
        "HP-r14",
        "HP-r15",
    ]
    assert {m.union_org_code for m in members} == {"huangpu"}
    assert {(e.channel, e.status) for e in enrolments} == {("batch", "awaiting_payment")}
    assert {m.phone_masked[:3] for m in members} == {"139", "137"}
    # The upload itself is erased once processed: only outcomes remain.
    assert [c.rows_cipher for c in chunks] == [None]


async def test_a_row_that_turns_60_before_cover_starts_is_paid_for_but_refund_due(
    http, union, run_jobs, db
):
    batch = (await submit(http, union, [r for r, *_ in MIXED])).json()
    await run_jobs()
    invoice = (await http.get(f"/v1/enrolment-batches/{batch['id']}", headers=union)).json()[
        "invoice"
    ]
    assert invoice["amount_fen"] == 5 * 7200
    await notify(http, notification(invoice))
    await run_jobs()

    after = (await http.get(f"/v1/enrolment-batches/{batch['id']}", headers=union)).json()
    assert (after["activated"], after["refund_due"]) == (4, 1)
    async with db.reader() as session:
        statuses = sorted((await session.scalars(select(Enrolment.status))).all())
    assert statuses == ["paid", "paid", "paid", "paid", "refund_due"]


async def test_the_invoice_is_for_the_accepted_rows_and_its_payment_starts_their_cover(
    http, union, citizen, run_jobs, db
):
    await enrol_individually(http, citizen, TURNS_60_TOMORROW, "rider-59")
    batch = (await submit(http, union, [r for r, *_ in MIXED])).json()
    await run_jobs()
    invoice = (await http.get(f"/v1/enrolment-batches/{batch['id']}", headers=union)).json()[
        "invoice"
    ]
    assert (invoice["amount_fen"], invoice["rows"], invoice["status"]) == (4 * 7200, 4, "open")
    assert invoice["batch_id"] == batch["id"]

    paid = await notify(http, notification(invoice))
    assert paid.status_code == 200, paid.text
    assert paid.json()["outcome"] == "activation_queued"
    assert await run_jobs() == 1

    after = (await http.get(f"/v1/enrolment-batches/{batch['id']}", headers=union)).json()
    assert (after["activated"], after["refund_due"], after["invoice"]["status"]) == (4, 0, "paid")
    async with db.reader() as session:
        periods = (await session.scalars(select(CoveragePeriodRecord))).all()
        statuses = dict(
            (
                await session.execute(
                    select(Enrolment.channel, func.count())
                    .group_by(Enrolment.channel)
                    .where(Enrolment.status == "paid")
                )
            ).all()
        )
    # Paid at 17:30 UTC on 23 November = 01:30 on the 24th in Shanghai: cover from the 25th.
    assert len(periods) == 4
    assert {(str(p.starts_on), str(p.ends_on)) for p in periods} == {("2026-11-25", "2027-11-24")}
    assert statuses == {"batch": 4}  # the individual application is still unpaid
    accepted_members = {
        r["member_id"] for r in await all_rows(http, union, batch["id"], outcome="accepted")
    }
    assert {str(p.member_id) for p in periods} == accepted_members

    again = await notify(http, notification(invoice))
    assert again.json()["outcome"] == "already_paid"
    async with db.reader() as session:
        [refund] = (await session.scalars(select(Refund))).all()
    assert (refund.amount_fen, refund.reason, refund.status) == (
        invoice["amount_fen"],
        "duplicate_payment",
        "pending",  # no gateway configured here: its job waits for one
    )


async def test_the_same_key_and_file_return_the_same_batch(http, union, run_jobs):
    rows = [r for r, *_ in MIXED]
    first = await submit(http, union, rows, key="weekly-2026-47")
    again = await submit(http, union, rows, key="weekly-2026-47")
    assert again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert await run_jobs() == 1


async def test_a_second_batch_with_the_same_people_finds_them_enrolled(http, union, run_jobs):
    rows = [row("a", RIDERS[10], "rider-10"), row("b", RIDERS[11], "rider-11")]
    await submit(http, union, rows, key="first")
    await run_jobs()
    second = (await submit(http, union, rows, key="second")).json()
    await run_jobs()
    outcomes = await all_rows(http, union, second["id"])
    assert [(r["outcome"], r["codes"]) for r in outcomes] == [
        ("duplicate", ["already_enrolled"])
    ] * 2
    done = (await http.get(f"/v1/enrolment-batches/{second['id']}", headers=union)).json()
    assert (done["status"], done["accepted"], done["invoice"]) == ("done", 0, None)


async def test_a_csv_file_with_a_bom_gives_the_same_outcomes(http, union, citizen, run_jobs):
    await enrol_individually(http, citizen, TURNS_60_TOMORROW, "rider-59")
    created = await submit_csv(http, union, as_csv([r for r, *_ in MIXED], bom=True))
    assert created.status_code == 202, created.text
    assert created.json()["source"] == "csv"
    await run_jobs()
    rows = await all_rows(http, union, created.json()["id"])
    assert [(r["outcome"], r["codes"]) for r in rows] == [(o, c) for _, o, c, _ in MIXED]


async def test_rejected_rows_download_as_csv_with_codes_and_refs_only(http, union, run_jobs):
    batch = (await submit(http, union, [r for r, *_ in MIXED])).json()
    await run_jobs()
    download = await http.get(f"/v1/enrolment-batches/{batch['id']}/rows.csv", headers=union)
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    lines = download.text.strip().split("\r\n")
    assert lines[0] == "row_number,ref,outcome,codes,duplicate_of_row"
    assert lines[1:3] == ["2,r02,rejected,age_limit,", "3,r03,rejected,invalid_id_number,"]
    assert len(lines) == 1 + 9
    assert GANSU not in download.text
    assert "王" not in download.text
    duplicates = await http.get(
        f"/v1/enrolment-batches/{batch['id']}/rows.csv",
        params={"outcome": "duplicate"},
        headers=union,
    )
    assert duplicates.text.split("\r\n")[1] == "6,r06,duplicate,duplicate_in_file,1"


async def test_a_union_sees_only_its_own_batches(http, union, other_union, citizen):
    batch = (await submit(http, union, [row("a", RIDERS[0], "rider-0")])).json()
    for path in ("", "/rows", "/rows.csv"):
        mine = await http.get(f"/v1/enrolment-batches/{batch['id']}{path}", headers=union)
        theirs = await http.get(f"/v1/enrolment-batches/{batch['id']}{path}", headers=other_union)
        assert mine.status_code == 200
        assert theirs.status_code == 404
        assert theirs.json()["code"] == "batch_not_found"
        forbidden = await http.get(f"/v1/enrolment-batches/{batch['id']}{path}", headers=citizen)
        assert forbidden.status_code == 403
    refused = await submit(http, citizen, [row("a", RIDERS[0], "rider-0")], key="citizen")
    assert refused.status_code == 403


async def test_progress_is_visible_while_the_batch_runs(http, union, app, run_jobs):
    runtime = app.state.runtime
    app.state.runtime = replace(
        runtime, settings=runtime.settings.model_copy(update={"batch_chunk_rows": 10})
    )
    rows = [row(f"p{i}", n, f"rider-{i}") for i, n in enumerate(RIDERS[:25])]
    batch = (await submit(http, union, rows)).json()
    assert batch["total"] == 25

    assert await Worker(app.state.runtime, JOB_HANDLERS).run_once()
    partway = (await http.get(f"/v1/enrolment-batches/{batch['id']}", headers=union)).json()
    assert (partway["status"], partway["processed"], partway["invoice"]) == ("running", 10, None)
    assert await run_jobs() == 2
    done = (await http.get(f"/v1/enrolment-batches/{batch['id']}", headers=union)).json()
    assert (done["status"], done["processed"], done["accepted"]) == ("done", 25, 25)
    assert done["invoice"]["amount_fen"] == 25 * 7200


async def test_an_invoice_starts_cover_in_steps_of_a_few_enrolments_each(
    http, union, run_jobs, db, monkeypatch
):
    """Each step is its own short transaction; all of them together start every row's cover."""
    monkeypatch.setattr("app.batches.invoices.ACTIVATION_CHUNK", 3)
    rows = [row(f"s{n:02d}", r, f"rider-{n}") for n, r in enumerate(RIDERS[:7])]
    batch = (await submit(http, union, rows)).json()
    await run_jobs()
    invoice = (await http.get(f"/v1/enrolment-batches/{batch['id']}", headers=union)).json()[
        "invoice"
    ]
    assert invoice["rows"] == 7

    await notify(http, notification(invoice))
    await run_jobs()

    after = (await http.get(f"/v1/enrolment-batches/{batch['id']}", headers=union)).json()
    assert (after["activated"], after["refund_due"]) == (7, 0)
    async with db.reader() as session:
        assert await session.scalar(select(func.count()).select_from(CoveragePeriodRecord)) == 7
