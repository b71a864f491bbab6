"""Our SMS client against the simulator, in-process: accepted, signed and keyed by the message
id; a repeat delivered once; refused; retried; given up on; and an answer outside the
contract."""

from __future__ import annotations

import pytest

from app.core.signing import verify
from app.notifications.client import SmsBadAnswer, SmsRefused, SmsUnavailable
from app.notifications.contract import ID_REUSED
from tests.support.sms import SECRET, in_process_sms, message


def signed_at(request) -> int:
    return int(request.headers["X-Signature"].split(",")[0].removeprefix("t="))


async def test_a_message_is_accepted_signed_and_keyed_by_its_id():
    async with in_process_sms() as (client, sim, tries):
        accepted = await client.send(message("m-1", text="保费已到账"))

        assert (accepted.id, accepted.status) == ("m-1", "accepted")
        [sent] = tries
        assert sent.headers["Idempotency-Key"] == "m-1"
        verify(sent.headers["X-Signature"], sent.content, [SECRET.encode()], signed_at(sent))
        [kept] = sim.messages.values()
        assert (kept.body.phone, kept.body.text, kept.calls) == ("13812345678", "保费已到账", 1)


async def test_a_repeat_is_answered_the_same_and_delivered_once():
    async with in_process_sms() as (client, sim, tries):
        first = await client.send(message("m-2"))
        again = await client.send(message("m-2"))

        assert again == first
        assert len(tries) == 2
        assert [(m.body.message_id, m.calls) for m in sim.messages.values()] == [("m-2", 2)]


async def test_the_same_id_with_another_text_is_refused_and_not_retried():
    async with in_process_sms(retries=2) as (client, sim, tries):
        await client.send(message("m-3", text="一"))
        with pytest.raises(SmsRefused) as refused:
            await client.send(message("m-3", text="二"))

        assert (refused.value.status, refused.value.code) == (409, ID_REUSED)
        assert not refused.value.about_us
        assert len(tries) == 2
        assert [m.body.text for m in sim.messages.values()] == ["一"]


async def test_a_call_signed_with_another_secret_is_refused_as_our_problem():
    async with in_process_sms() as (client, sim, _tries):
        sim.secret = b"the gateway's other secret"
        with pytest.raises(SmsRefused) as refused:
            await client.send(message("m-4"))

        assert (refused.value.status, refused.value.code) == (401, "invalid_signature")
        assert refused.value.about_us
        assert sim.messages == {}


async def test_an_undeliverable_message_is_refused_once():
    async with in_process_sms(retries=2) as (client, sim, tries):
        sim.faults.append("refuse")
        with pytest.raises(SmsRefused) as refused:
            await client.send(message("m-5"))

        assert (refused.value.status, refused.value.code) == (422, "undeliverable")
        assert len(tries) == 1


async def test_a_5xx_is_retried_with_the_same_id_until_it_is_taken():
    async with in_process_sms(retries=2) as (client, sim, tries):
        sim.faults.extend(["error", "error"])
        accepted = await client.send(message("m-6"))

        assert accepted.id == "m-6"
        assert [r.headers["Idempotency-Key"] for r in tries] == ["m-6"] * 3
        assert [(m.body.message_id, m.calls) for m in sim.messages.values()] == [("m-6", 1)]


async def test_no_answer_after_the_bounded_retries_is_unavailable():
    async with in_process_sms(retries=1) as (client, sim, tries):
        sim.faults.extend(["error"] * 5)
        with pytest.raises(SmsUnavailable, match="HTTP 503 after 2 attempts"):
            await client.send(message("m-7"))

        assert len(tries) == 2


async def test_an_answer_outside_the_contract_is_as_unknown_as_none():
    async with in_process_sms() as (client, sim, _tries):
        sim.faults.append("garbage")
        with pytest.raises(SmsBadAnswer):
            await client.send(message("m-8"))

        assert list(sim.messages) == ["m-8"]  # taken: sending it again is safe
        assert (await client.send(message("m-8"))).id == "m-8"
