"""Which refusals are about the transfer and which about how we call: only the first may mark
money failed; the second (our signature, the URL) waits for the setting to be fixed."""

from __future__ import annotations

import pytest

from app.gateway.client import GatewayClient, GatewayConfig, GatewayRefused
from tests.support.gateway import transfer


async def test_a_wrong_secret_or_url_is_about_us_and_a_reused_id_is_not(sim_process):
    url = str(sim_process.control.base_url).rstrip("/")
    wrong_secret = GatewayConfig(url, b"not-the-secret", timeout_seconds=5, retries=0)
    wrong_url = GatewayConfig(f"{url}/nowhere", b"x", timeout_seconds=5, retries=0)

    async with GatewayClient(wrong_secret) as client:
        with pytest.raises(GatewayRefused) as unsigned:
            await client.transfer(transfer("r-1"))
    async with GatewayClient(wrong_url) as client:
        with pytest.raises(GatewayRefused) as lost:
            await client.transfer(transfer("r-2"))
    await sim_process.client.transfer(transfer("r-3"))
    with pytest.raises(GatewayRefused) as reused:
        await sim_process.client.transfer(transfer("r-3", amount_fen=1))

    assert (unsigned.value.status, unsigned.value.about_us) == (401, True)
    assert (lost.value.status, lost.value.about_us) == (404, True)
    assert (reused.value.status, reused.value.code, reused.value.about_us) == (
        409,
        "id_reused",
        False,
    )
