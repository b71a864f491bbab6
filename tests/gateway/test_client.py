"""Our gateway client against the simulator, in-process: accepted, repeated, refused, retried,
given up on, and an answer outside the contract."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from app.core.signing import verify
from app.gateway.client import (
    GatewayBadAnswer,
    GatewayClient,
    GatewayConfig,
    GatewayRefused,
    GatewayUnavailable,
)
from app.gateway.contract import ID_REUSED
from tests.support.gateway import SECRET, in_process_gateway, refund, transfer
from tests.support.processes import free_port, wait_for


async def test_a_transfer_is_accepted_signed_and_keyed():
    async with in_process_gateway() as gateway, gateway.client() as client:
        accepted = await client.transfer(transfer("t-1"))

        assert (accepted.id, accepted.status) == ("t-1", "accepted")
        assert accepted.gateway_ref
        [sent] = gateway.tries
        assert sent.headers["Idempotency-Key"] == "t-1"
        verify(sent.headers["X-Signature"], sent.content, [SECRET], sent_at(sent))
        assert await gateway.instruction("t-1") == {
            "kind": "transfer",
            "id": "t-1",
            "gateway_ref": accepted.gateway_ref,
            "amount_fen": 150_000,
            "received": 1,
            "paid": 1,
            "status": "succeeded",
        }


async def test_a_refund_is_accepted():
    async with in_process_gateway() as gateway, gateway.client() as client:
        accepted = await client.refund(refund("r-1"))

        assert accepted.id == "r-1"
        assert (await gateway.instruction("r-1"))["paid"] == 1
        assert gateway.tries[0].headers["Idempotency-Key"] == "r-1"


async def test_a_repeat_is_answered_the_same_and_pays_once():
    async with in_process_gateway() as gateway, gateway.client() as client:
        first = await client.transfer(transfer("t-2"))
        again = await client.transfer(transfer("t-2"))

        assert again == first
        seen = await gateway.instruction("t-2")
        assert (seen["received"], seen["paid"]) == (2, 1)
        await wait_for(lambda: settled(gateway, 1), within=5)


async def test_the_same_id_with_another_amount_is_refused_and_not_retried():
    async with in_process_gateway() as gateway, gateway.client() as client:
        await client.transfer(transfer("t-3", amount_fen=100))
        with pytest.raises(GatewayRefused) as refused:
            await client.transfer(transfer("t-3", amount_fen=200))

        assert (refused.value.status, refused.value.code) == (409, ID_REUSED)
        assert len(gateway.tries) == 2
        assert (await gateway.instruction("t-3"))["paid"] == 1


async def test_a_call_signed_with_another_secret_is_refused_once():
    async with in_process_gateway() as gateway, gateway.client(secret=b"not-ours") as client:
        with pytest.raises(GatewayRefused) as refused:
            await client.transfer(transfer("t-4"))

        assert (refused.value.status, refused.value.code) == (401, "invalid_signature")
        assert len(gateway.tries) == 1


async def test_a_5xx_is_retried_until_the_gateway_takes_it():
    async with in_process_gateway() as gateway, gateway.client() as client:
        await gateway.control.post("/_sim/faults", json={"answer": "error", "times": 2})

        accepted = await client.transfer(transfer("t-5"))

        assert accepted.id == "t-5"
        assert len(gateway.tries) == 3
        assert (await gateway.instruction("t-5"))["paid"] == 1


async def test_5xx_every_time_is_unavailable_after_the_bounded_tries():
    async with in_process_gateway() as gateway, gateway.client(retries=1) as client:
        await gateway.control.post("/_sim/faults", json={"answer": "error", "times": 5})

        with pytest.raises(GatewayUnavailable, match="HTTP 503 after 2 attempts"):
            await client.transfer(transfer("t-6"))

        assert len(gateway.tries) == 2


async def test_a_call_that_never_answers_is_unavailable_after_three_tries():
    async with in_process_gateway() as gateway, gateway.client(timeout_seconds=0.2) as client:
        await gateway.control.post(
            "/_sim/rules", json={"kind": "transfer", "match_id": "t-7", "outcome": "hold"}
        )

        with pytest.raises(GatewayUnavailable, match="timed out after 3 attempts"):
            await client.transfer(transfer("t-7"))

        seen = await gateway.instruction("t-7")
        assert (len(gateway.tries), seen["received"], seen["paid"]) == (3, 3, 0)
        await gateway.control.post("/_sim/release")
        assert (await gateway.instruction("t-7"))["paid"] == 1


async def test_a_refused_connection_is_retried_then_unavailable():
    tries: list[httpx.Request] = []

    async def count(request: httpx.Request) -> None:
        tries.append(request)

    config = GatewayConfig(f"http://127.0.0.1:{free_port()}", SECRET, 1.0, 2, 0.0)
    http = httpx.AsyncClient(event_hooks={"request": [count]})
    async with GatewayClient(config, http) as client:
        with pytest.raises(GatewayUnavailable, match="could not connect"):
            await client.transfer(transfer("t-8"))
    await http.aclose()

    assert len(tries) == 3


async def test_an_answer_outside_the_contract_is_a_bad_answer_and_safe_to_repeat():
    async with in_process_gateway() as gateway, gateway.client() as client:
        await gateway.control.post("/_sim/faults", json={"answer": "garbage"})

        with pytest.raises(GatewayBadAnswer, match="not the contract's"):
            await client.transfer(transfer("t-9"))
        accepted = await client.transfer(transfer("t-9"))

        assert accepted.id == "t-9"
        assert len(gateway.tries) == 2  # an answer is not retried, whatever its shape
        assert (await gateway.instruction("t-9"))["paid"] == 1


@pytest.mark.parametrize(
    ("status", "body", "problem"),
    [
        (200, b'{"id": "other", "gateway_ref": "G1", "status": "accepted"}', "another id"),
        (200, b'{"id": "t-10", "gateway_ref": "G1", "status": "done"}', "status"),
        (200, b"<html>ok</html>", "not the contract's"),
        (302, b"", "HTTP 302"),
    ],
)
async def test_answers_outside_the_contract(status, body, problem):
    transport = httpx.MockTransport(lambda request: httpx.Response(status, content=body))
    config = GatewayConfig("http://gateway", SECRET, 1.0, 2, 0.0)
    async with httpx.AsyncClient(transport=transport) as http:
        with pytest.raises(GatewayBadAnswer, match=problem):
            await GatewayClient(config, http).transfer(transfer("t-10"))


def sent_at(request: httpx.Request) -> float:
    header = request.headers["X-Signature"]
    return float(header.split(",")[0].removeprefix("t="))


async def settled(gateway, count: int) -> bool:
    """Every notification queued so far was answered, and there are `count` of them."""
    await asyncio.sleep(0)
    answer = (await gateway.control.get("/_sim/notifications")).json()
    return len(answer) == count and all(n["answered"] == 200 for n in answer)
