"""`mutualaid sms-sim` as a real process: it checks our signature, delivers each message id
once however often it is sent, keeps what it delivered in order for `GET /_sim/messages`, holds
new messages unanswered until released, and fails or refuses calls when told to."""

from __future__ import annotations

import asyncio

import pytest

from app.notifications.client import SmsClient, SmsConfig, SmsRefused, SmsUnavailable
from tests.support.processes import wait_for
from tests.support.sms import SECRET, message


def client_for(url: str, secret: str = SECRET) -> SmsClient:
    return SmsClient(SmsConfig(url, secret.encode(), timeout_seconds=10, retries=0))


async def test_delivered_messages_are_kept_in_order_once_each(sms_sim_url, sms_control):
    client = client_for(sms_sim_url)
    try:
        await client.send(message("m-a", text="第一条"))
        await client.send(message("m-b", phone="13900001111", text="第二条"))
        await client.send(message("m-a", text="第一条"))
    finally:
        await client.aclose()

    kept = (await sms_control.get("/_sim/messages")).json()
    assert [(m["message_id"], m["phone"], m["text"], m["calls"]) for m in kept] == [
        ("m-a", "13812345678", "第一条", 2),
        ("m-b", "13900001111", "第二条", 1),
    ]
    assert {m["status"] for m in kept} == {"delivered"}
    assert len((await sms_control.get("/_sim/calls")).json()) == 3


async def test_a_call_not_signed_with_its_secret_is_refused_and_kept_nowhere(
    sms_sim_url, sms_control
):
    unsigned = await sms_control.post(
        "/messages", json={"message_id": "m-x", "phone": "13812345678", "text": "x"}
    )
    client = client_for(sms_sim_url, secret="another")
    try:
        with pytest.raises(SmsRefused) as refused:
            await client.send(message("m-y"))
    finally:
        await client.aclose()

    assert (unsigned.status_code, unsigned.json()["code"]) == (401, "invalid_signature")
    assert refused.value.about_us
    assert (await sms_control.get("/_sim/messages")).json() == []


async def test_a_held_message_is_answered_on_release_and_delivered_once(sms_sim_url, sms_control):
    assert (await sms_control.post("/_sim/hold")).json() == {"holding": True}
    client = client_for(sms_sim_url)
    try:
        call = asyncio.create_task(client.send(message("m-held")))

        async def held():
            kept = (await sms_control.get("/_sim/messages")).json()
            return kept and kept[0]["status"] == "held"

        await wait_for(held, within=10)
        assert not call.done()
        assert (await sms_control.post("/_sim/release")).json() == {"released": 1}
        accepted = await asyncio.wait_for(call, timeout=10)
        again = await client.send(message("m-held"))
    finally:
        await client.aclose()

    assert again == accepted
    [kept] = (await sms_control.get("/_sim/messages")).json()
    assert (kept["status"], kept["calls"]) == ("delivered", 2)


async def test_faults_fail_or_refuse_the_next_calls(sms_sim_url, sms_control):
    faults = await sms_control.post("/_sim/faults", json={"answer": "error", "times": 1})
    assert faults.status_code == 201
    await sms_control.post("/_sim/faults", json={"answer": "refuse"})
    client = client_for(sms_sim_url)
    try:
        with pytest.raises(SmsUnavailable):
            await client.send(message("m-f"))
        with pytest.raises(SmsRefused) as refused:
            await client.send(message("m-f"))
        accepted = await client.send(message("m-f"))
    finally:
        await client.aclose()

    assert refused.value.code == "undeliverable"
    assert accepted.id == "m-f"
    assert [m["calls"] for m in (await sms_control.get("/_sim/messages")).json()] == [1]
