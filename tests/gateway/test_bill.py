"""The simulated gateway's daily bill, fetched by our client: what moved that day (Shanghai
date), lines injected and dropped by the test, and a transfer returned days later."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.gateway.client import BillNotReady
from app.gateway.contract import BILL_COLUMNS, read_bill
from tests.support.gateway import MORNING, in_process_gateway, transfer

DAY = date(2026, 11, 24)


async def test_the_bill_shows_the_day_as_the_test_shaped_it():
    async with in_process_gateway() as gateway, gateway.client() as client:
        control = gateway.control
        kept = await control.post(
            "/_sim/payments", json={"payment_order_id": "order-1", "amount_fen": 7200}
        )
        await control.post(
            "/_sim/payments", json={"payment_order_id": "order-2", "amount_fen": 7200}
        )
        gateway.clock.at = MORNING + timedelta(hours=1)
        paid = await client.transfer(transfer("t-1", amount_fen=150_000))
        unseen = {
            "kind": "payment",
            "gateway_ref": "P-unseen",
            "our_ref": "order-unseen",
            "amount_fen": 7200,
            "occurred_at": "2026-11-24T09:00:00+08:00",
            "fee_fen": 43,
        }
        await control.post("/_sim/bill-lines", json={"date": DAY.isoformat(), "lines": [unseen]})
        dropped = await control.post(
            "/_sim/bill-lines/drop", json={"date": DAY.isoformat(), "our_ref": "order-2"}
        )
        # Two days later the bank sends the transfer back.
        gateway.clock.at = MORNING + timedelta(days=2)
        await control.post("/_sim/transfers/t-1/return", json={"reason": "account_closed"})

        day = read_bill(await client.bill(DAY))
        returned = read_bill(await client.bill(DAY + timedelta(days=2)))
        quiet = await client.bill(DAY + timedelta(days=1))
        with pytest.raises(BillNotReady):
            await client.bill(DAY + timedelta(days=3))

    assert dropped.json() == {"dropped": 1}
    assert [(line.kind, line.our_ref, line.amount_fen, line.fee_fen) for line in day] == [
        ("payment", "order-unseen", 7200, 43),  # 09:00, before the others: sorted by time
        ("payment", "order-1", 7200, 43),
        ("transfer", "t-1", 150_000, 0),
    ]
    assert day[1].gateway_ref == kept.json()["gateway_ref"]
    assert day[2].gateway_ref == paid.gateway_ref
    assert [(line.kind, line.our_ref, line.amount_fen) for line in returned] == [
        ("transfer", "t-1", -150_000)
    ]
    assert returned[0].occurred_at == MORNING + timedelta(days=2)
    assert quiet.decode() == ",".join(BILL_COLUMNS) + "\n"


async def test_the_bill_is_written_with_offsets_in_shanghai_time():
    async with in_process_gateway() as gateway, gateway.client() as client:
        await gateway.control.post(
            "/_sim/payments",
            json={
                "payment_order_id": "order-1",
                "amount_fen": 100,
                "paid_at": "2026-11-23T17:30:00Z",
            },
        )
        raw = (await client.bill(DAY)).decode()

    header, row = raw.splitlines()
    assert header == "kind,gateway_ref,our_ref,amount_fen,occurred_at,fee_fen"
    assert row.endswith(",order-1,100,2026-11-24T01:30:00+08:00,1")
