"""`mutualaid gateway-sim` as a real process, with a local HTTP server standing in for the
service: each outcome rule produces the signed notifications the service would receive, and a
call the gateway held open is answered once released and paid once however often it is repeated.
"""

from __future__ import annotations

import asyncio

from app.gateway.contract import PAYMENT_NOTIFICATIONS_PATH, REFUND_NOTIFICATIONS_PATH
from tests.support.gateway import WITHIN, refund, signed_notifications, transfer
from tests.support.processes import wait_for


async def test_a_transfer_that_succeeds_is_notified_once_signed(sim_process):
    accepted = await sim_process.client.transfer(transfer("t-ok", amount_fen=150_000))

    [note] = await sim_process.payouts("t-ok", 1)
    assert accepted.id == "t-ok"
    assert (note["status"], note["payout_id"], note["channel"]) == (
        "succeeded",
        "payout-t-ok",
        "bank",
    )
    assert (note["amount_fen"], note["reason"]) == (150_000, None)
    assert note["occurred_at"].endswith("+08:00")
    assert note["event_id"]


async def test_a_fail_rule_is_notified_as_failed_with_its_reason(sim_process):
    await sim_process.rule(
        kind="transfer", match_account_no="6222000000000000", outcome="fail", reason="bad_account"
    )

    await sim_process.client.transfer(transfer("t-fail", account_no="6222000000000000"))

    [note] = await sim_process.payouts("t-fail", 1)
    assert (note["status"], note["reason"]) == ("failed", "bad_account")
    assert (await sim_process.instruction("t-fail"))["paid"] == 0


async def test_a_returned_transfer_is_notified_paid_then_returned(sim_process):
    await sim_process.rule(kind="transfer", match_id="t-ret", outcome="return")
    await sim_process.client.transfer(transfer("t-ret", amount_fen=9900))
    [paid] = await sim_process.payouts("t-ret", 1)

    answer = await sim_process.control.post(
        "/_sim/transfers/t-ret/return", json={"reason": "account_frozen"}
    )

    assert answer.status_code == 200, answer.text
    first, second = await sim_process.payouts("t-ret", 2)
    assert first == paid
    assert (first["status"], second["status"]) == ("succeeded", "returned")
    assert (second["reason"], second["amount_fen"]) == ("account_frozen", 9900)
    assert second["event_id"] != first["event_id"]


async def test_a_held_call_is_answered_on_release_and_a_repeat_pays_nothing_more(sim_process):
    client, control = sim_process.client, sim_process.control
    await sim_process.rule(kind="transfer", match_id="t-held", outcome="hold")
    call = asyncio.create_task(client.transfer(transfer("t-held")))

    async def held() -> bool:
        return (await sim_process.instruction("t-held")).get("status") == "held"

    await wait_for(held, within=WITHIN)
    assert not call.done()
    assert (await control.post("/_sim/release")).json() == {"released": 1}
    accepted = await asyncio.wait_for(call, timeout=WITHIN)
    again = await client.transfer(transfer("t-held"))

    assert again == accepted
    seen = await sim_process.instruction("t-held")
    assert (seen["received"], seen["paid"], seen["status"]) == (2, 1, "succeeded")
    # Notifications go out one at a time, in order: once a later one has arrived, a second one
    # for the held transfer would already have arrived before it.
    await client.transfer(transfer("t-after"))
    await sim_process.payouts("t-after", 1)
    assert len(await sim_process.payouts("t-held", 1)) == 1


async def test_refunds_and_collected_premiums_are_notified(sim_process):
    await sim_process.client.refund(refund("r-1", amount_fen=7200))
    collected = await sim_process.control.post(
        "/_sim/payments", json={"payment_order_id": "order-1", "amount_fen": 7200}
    )
    assert collected.status_code == 201, collected.text

    async def both() -> tuple[list[dict], list[dict]] | None:
        refunds = signed_notifications(sim_process.receiver, REFUND_NOTIFICATIONS_PATH)
        payments = signed_notifications(sim_process.receiver, PAYMENT_NOTIFICATIONS_PATH)
        return (refunds, payments) if refunds and payments else None

    refunds, [payment] = await wait_for(both, within=WITHIN)
    assert [(n["refund_id"], n["status"], n["amount_fen"]) for n in refunds] == [
        ("r-1", "succeeded", 7200)
    ]
    # The premium notification's fields are exactly those the service has always accepted.
    assert payment.keys() == {
        "event_id",
        "payment_order_id",
        "status",
        "amount_fen",
        "paid_at",
        "channel",
    }
    assert (payment["payment_order_id"], payment["amount_fen"]) == ("order-1", 7200)
