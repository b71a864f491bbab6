"""What a review of the batch path found, kept as tests: money for applications that are no
longer open, failed batches, hostile input, and what one union may learn about another's."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select

from app.batches.chunks import mark_failed
from app.batches.models import BatchChunk
from app.coverage.models import CoveragePeriodRecord
from app.enrolment.models import Enrolment
from app.handlers import JOB_HANDLERS
from app.jobs.worker import Worker
from app.members.models import Member
from tests.support.batches import RIDERS, as_csv, drain, row, submit, submit_csv
from tests.support.enrolment import NOW, application, apply
from tests.support.payments import notification, notify


async def test_a_late_payment_for_an_application_a_batch_replaced_starts_no_cover(
    http, union, citizen, db, app_at
):
    mine = (await apply(http, citizen, application(RIDERS[0], "rider-0"))).json()
    order = (
        await http.post(
            f"/v1/enrolments/{mine['id']}/payment-orders",
            headers=citizen | {"Idempotency-Key": "o1"},
        )
    ).json()
    later_on = NOW + timedelta(days=40)
    async with app_at(later_on) as (later, later_app):
        batch = (await submit(later, union, [row("a", RIDERS[0], "rider-0")])).json()
        await drain(later_app)
        page = (await later.get(f"/v1/enrolment-batches/{batch['id']}/rows", headers=union)).json()
        paid = await notify(later, notification(order, paid_at=later_on.isoformat()))
    assert page["rows"][0]["outcome"] == "accepted"  # the unpaid application had lapsed
    assert paid.json()["outcome"] == "refund_due"
    async with db.reader() as session:
        status = await session.scalar(
            select(Enrolment.status).where(Enrolment.id == uuid.UUID(mine["id"]))
        )
        periods = (await session.scalars(select(CoveragePeriodRecord))).all()
    assert status == "expired"
    assert periods == []


async def test_a_failed_batch_releases_its_people_and_erases_its_upload(
    http, union, citizen, app, run_jobs, db
):
    runtime = app.state.runtime
    app.state.runtime = replace(
        runtime, settings=runtime.settings.model_copy(update={"batch_chunk_rows": 2})
    )
    rows = [row(f"r{i}", n, f"rider-{i}") for i, n in enumerate(RIDERS[:4])]
    batch = (await submit(http, union, rows)).json()
    assert await Worker(app.state.runtime, JOB_HANDLERS).run_once()  # first chunk: 2 accepted

    await mark_failed(app.state.runtime, uuid.UUID(batch["id"]))
    assert await run_jobs() == 1  # the second chunk's job finds the batch failed

    done = (await http.get(f"/v1/enrolment-batches/{batch['id']}", headers=union)).json()
    assert (done["status"], done["processed"], done["invoice"]) == ("failed", 2, None)
    async with db.reader() as session:
        statuses = sorted((await session.scalars(select(Enrolment.status))).all())
        ciphers = (await session.scalars(select(BatchChunk.rows_cipher))).all()
    assert statuses == ["expired", "expired"]
    assert ciphers == [None, None]
    again = await apply(http, citizen, application(RIDERS[0], "rider-0"))
    assert again.status_code == 201, again.text


async def test_control_characters_are_refused_without_breaking_the_chunk(http, union, run_jobs):
    bad_ref = await submit(http, union, [row("a\x00b", RIDERS[0], "rider-0")], key="nul-ref")
    assert (bad_ref.status_code, bad_ref.json()["code"]) == (422, "invalid_batch")
    rows = [row("ok", RIDERS[0], "rider-0"), row("nul", RIDERS[1], "rider-1", name="王\x00明")]
    rows[1]["union_member_number"] = "HP\x00"
    batch = (await submit(http, union, rows)).json()
    await run_jobs()
    page = (await http.get(f"/v1/enrolment-batches/{batch['id']}/rows", headers=union)).json()
    assert [(r["outcome"], r["codes"]) for r in page["rows"]] == [
        ("accepted", []),
        ("rejected", ["invalid_characters"]),
    ]


async def test_a_csv_without_its_header_row_echoes_no_personal_data(http, union):
    body = as_csv([row("r1", RIDERS[0], "rider-0")]).split(b"\r\n", 1)[1]
    response = await submit_csv(http, union, body)
    assert (response.status_code, response.json()["code"]) == (422, "invalid_header")
    assert RIDERS[0] not in response.text
    assert "13912345678" not in response.text
    assert "王小明" not in response.text


async def test_a_headerless_csv_never_echoes_a_latin_script_value(http, union):
    """A name written in Latin letters, or a worker id, looks like a column name: the first row
    of a file sent without its header must not come back as "unknown columns"."""
    first = row("r1", RIDERS[0], "rider_zero", name="Wang Wei", union_member_number="HP_0001")
    body = as_csv([first]).split(b"\r\n", 1)[1]

    response = await submit_csv(http, union, body)

    assert (response.status_code, response.json()["code"]) == (422, "invalid_header")
    for value in ("Wang", "rider_zero", "HP_0001", "r1", RIDERS[0]):
        assert value not in response.text, value
    assert response.json()["unknown_columns"] == []


async def test_a_non_ascii_digit_cursor_is_a_bad_request(http, union):
    batch = (await submit(http, union, [row("a", RIDERS[0], "rider-0")])).json()
    response = await http.get(
        f"/v1/enrolment-batches/{batch['id']}/rows", params={"cursor": "²"}, headers=union
    )
    assert (response.status_code, response.json()["code"]) == (400, "invalid_cursor")


async def test_another_unions_members_are_not_revealed_nor_rewritten(
    http, union, other_union, run_jobs, db
):
    first = (await submit(http, other_union, [row("x", RIDERS[0], "rider-0")], key="a")).json()
    await run_jobs()
    ours = (await submit(http, union, [row("y", RIDERS[0], "rider-0")], key="b")).json()
    await run_jobs()
    theirs = (
        await http.get(f"/v1/enrolment-batches/{first['id']}/rows", headers=other_union)
    ).json()
    mine = (await http.get(f"/v1/enrolment-batches/{ours['id']}/rows", headers=union)).json()
    assert theirs["rows"][0]["member_id"] is not None
    assert (mine["rows"][0]["outcome"], mine["rows"][0]["member_id"]) == ("duplicate", None)


async def test_a_batch_never_rewrites_an_existing_members_contact_details(
    http, union, run_jobs, db, app_at
):
    batch = (await submit(http, union, [row("a", RIDERS[0], "rider-0")], key="first")).json()
    await run_jobs()
    invoice = (await http.get(f"/v1/enrolment-batches/{batch['id']}", headers=union)).json()
    await notify(http, notification(invoice["invoice"]))
    await run_jobs()
    async with db.reader() as session:
        before = (await session.scalars(select(Member))).one()
    # 26 days before the period ends, renewal is open: the union's records name another phone.
    renewal_on = NOW + timedelta(days=340)
    async with app_at(renewal_on) as (later, later_app):
        renewal = [row("b", RIDERS[0], "rider-0", phone="13700000000", name="别人")]
        second = (await submit(later, union, renewal, key="second")).json()
        await drain(later_app)
        outcome = (
            await later.get(f"/v1/enrolment-batches/{second['id']}/rows", headers=union)
        ).json()["rows"][0]
        invoice = (await later.get(f"/v1/enrolment-batches/{second['id']}", headers=union)).json()
        await notify(later, notification(invoice["invoice"], paid_at=renewal_on.isoformat()))
        await drain(later_app)
    assert outcome["outcome"] == "accepted"
    async with db.reader() as session:
        after = (await session.scalars(select(Member))).one()
        periods = (await session.scalars(select(CoveragePeriodRecord))).all()
    assert len(periods) == 2
    assert (after.phone_masked, after.name_masked) == (before.phone_masked, before.name_masked)


async def test_a_row_for_a_member_whose_death_is_recorded_is_rejected(
    http, union, citizen, db, app_at
):
    enrolment = (await apply(http, citizen, application(RIDERS[0], "rider-0"))).json()
    order = (
        await http.post(
            f"/v1/enrolments/{enrolment['id']}/payment-orders",
            headers=citizen | {"Idempotency-Key": "o-dead"},
        )
    ).json()
    await notify(http, notification(order))
    async with db.writer() as session:
        member = await session.get(Member, uuid.UUID(enrolment["member_id"]))
        member.died_on = NOW.date() + timedelta(days=60)
        await session.commit()

    # In the renewal window of the member's period (ends 24 November 2027).
    async with app_at(NOW + timedelta(days=350)) as (later, later_app):
        batch = (await submit(later, union, [row("dead", RIDERS[0], "rider-0")])).json()
        await drain(later_app)
        page = (await later.get(f"/v1/enrolment-batches/{batch['id']}/rows", headers=union)).json()

    [only] = page["rows"]
    assert (only["outcome"], only["codes"]) == ("rejected", ["member_deceased"])
    async with db.reader() as session:
        statuses = (await session.scalars(select(Enrolment.status))).all()
    assert statuses == ["paid"]
