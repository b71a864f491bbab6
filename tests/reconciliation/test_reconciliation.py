"""Reconciliation over HTTP, both databases: a day's bill matched against the payments, refunds
and transfers the service recorded that day; the same bill again is the same run; a corrected bill
is a new one."""

from __future__ import annotations

import uuid
from datetime import datetime

from app.core.policy import Role
from app.gateway.contract import BillLine, write_bill
from tests.support.batches import drain
from tests.support.claims import covered_members, seed
from tests.support.payments import add_order, notification, notify
from tests.support.service import bearer

DAY = "2026-11-23"
PAID_AT = "2026-11-23T03:00:00+00:00"


def line(kind: str, our_ref: str, amount: int, at: str = PAID_AT) -> BillLine:
    return BillLine(
        kind=kind,
        gateway_ref=f"g-{uuid.uuid4().hex[:12]}",
        our_ref=our_ref,
        amount_fen=amount,
        occurred_at=datetime.fromisoformat(at),
        fee_fen=0,
    )


async def submit(http, headers, bill: bytes, day: str = DAY, content_type="text/csv"):
    return await http.post(
        f"/v1/reconciliations?date={day}",
        content=bill,
        headers=headers | {"Content-Type": content_type},
    )


async def test_a_bill_is_matched_line_by_line(http, app, db, runtime, api_key):
    finance = bearer(await api_key(Role.FINANCE))
    seeder = await seed(db, runtime)
    paid, twice, unbilled = await covered_members(db, runtime, seeder)(3)
    orders = [await add_order(db, runtime.cipher, m, seeder) for m in (paid, twice, unbilled)]
    for order in [orders[0], orders[1], orders[1], orders[2]]:
        body = notification(order, paid_at=PAID_AT)
        assert (await notify(http, body)).status_code == 200
    bill = write_bill(
        [
            line("payment", orders[0]["id"], 7200),
            line("payment", orders[1]["id"], 7200),  # the duplicate's second line is missing
            line("payment", str(uuid.uuid4()), 7200),  # a payment we never saw
            line("refund", str(uuid.uuid4()), 100),  # a refund we never asked for
        ]
    )

    created = await submit(http, finance, bill)
    assert created.status_code == 202, created.text
    assert await drain(app) >= 1
    run_id = created.json()["id"]
    run = (await http.get(f"/v1/reconciliations/{run_id}", headers=finance)).json()
    lines = (await http.get(f"/v1/reconciliations/{run_id}/lines", headers=finance)).json()

    assert (run["status"], run["bill_lines"], run["our_entries"]) == ("done", 4, 4)
    assert (run["matched"], run["differences"]) == (1, 4)
    assert sorted((d["kind"], d["line_kind"]) for d in lines["items"]) == [
        ("amount_mismatch", "payment"),
        ("missing_here", "payment"),
        ("missing_here", "refund"),
        ("missing_there", "payment"),
    ]
    [short] = [d for d in lines["items"] if d["kind"] == "amount_mismatch"]
    assert (short["our_ref"], short["bill_fen"], short["ours_fen"]) == (
        orders[1]["id"],
        7200,
        14_400,
    )

    again = await submit(http, finance, bill)
    assert (again.status_code, again.json()["id"]) == (200, run_id)
    corrected = await submit(
        http,
        finance,
        bill + b"payment,g-x," + orders[2]["id"].encode() + b",7200,2026-11-23T11:00:00+08:00,0\n",
    )
    assert corrected.status_code == 202
    assert corrected.json()["id"] != run_id


async def test_a_bill_must_be_csv_and_only_finance_sends_one(http, api_key):
    finance = bearer(await api_key(Role.FINANCE))
    examiner = bearer(await api_key(Role.EXAMINER))
    bill = write_bill([])

    wrong_type = await submit(http, finance, bill, content_type="application/json")
    forbidden = await submit(http, examiner, bill)

    assert (wrong_type.status_code, wrong_type.json()["code"]) == (415, "unsupported_media_type")
    assert forbidden.status_code == 403


async def test_a_bill_not_in_the_contract_fails_the_run_with_the_reason(http, app, api_key):
    finance = bearer(await api_key(Role.FINANCE))

    not_a_bill = await submit(http, finance, b"kind,amount\npayment,1\n")
    header = b"kind,gateway_ref,our_ref,amount_fen,occurred_at,fee_fen\n"
    bad_row = b"payment,g,o,seven,2026-11-23T11:00:00+08:00,0\n"
    created = await submit(http, finance, header + bad_row)
    await drain(app)
    run = (await http.get(f"/v1/reconciliations/{created.json()['id']}", headers=finance)).json()

    assert (not_a_bill.status_code, not_a_bill.json()["code"]) == (422, "invalid_bill")
    assert (run["status"], run["error"]) == ("failed", "row 2 is not a bill line")
