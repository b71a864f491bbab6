"""Fixtures: one `mutualaid gateway-sim` process for the module's tests, with its receiver."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import httpx
import pytest

from app.gateway.client import GatewayClient, GatewayConfig
from tests.support.gateway import SECRET, SimProcess, service_url
from tests.support.processes import free_port, running, start, wait_until_serving
from tests.support.receiver import running_receiver


@pytest.fixture(scope="module")
async def sim_process() -> AsyncIterator[SimProcess]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with running_receiver() as receiver:
        args = ["gateway-sim", "--port", str(port), "--notify-url", service_url(receiver)]
        simulator = start([*args, "--secret", SECRET.decode()], dict(os.environ))
        with running(simulator):
            await wait_until_serving(url)
            config = GatewayConfig(url, SECRET, timeout_seconds=10, retries=0)
            async with httpx.AsyncClient(base_url=url) as control, GatewayClient(config) as client:
                yield SimProcess(client, control, receiver)
