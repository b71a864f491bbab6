"""The service in this process, for `mutualaid demo` to live through a few months of it.

The demo world is made the way users make theirs: every record comes from an HTTP request to
the real application (in this process, through httpx's ASGI transport) with the demo clients'
keys, every background job is run by the real handlers, and the partners are the real
simulators, answered in this process too: the platform's verification URL reaches the platform
simulator, `MUTUALAID_GATEWAY_URL` the gateway simulator, which sends its signed notifications
back to the application. So the world holds together as a real one does (the ledger balances,
every list and report agrees). The service's clock is moved by hand from one step to the next.

The application comes from above (`mutualaid demo` passes `app.main.create_app` and the job
handlers in), since this package sits below them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from fastapi import FastAPI

from app.core.clock import Clock
from app.core.config import Settings
from app.core.runtime import Runtime
from app.gateway.simulator import create_gateway_simulator
from app.jobs.queue import Lane
from app.jobs.worker import Handler, Worker
from app.platforms.simulator import create_simulator

# The demo's gateway is no host at all: its calls are answered in this process.
GATEWAY_URL = "http://gateway.demo.invalid"
SERVICE_URL = "http://mutualaid.demo.invalid"

AppFactory = Callable[[Settings], FastAPI]


class DemoClock(Clock):
    """A fixed clock the demo moves forward as its story goes."""

    def __init__(self, at: datetime) -> None:
        super().__init__(at)
        self.at = at.astimezone(UTC)

    def now(self) -> datetime:
        return self.at


class _Routes(httpx.AsyncBaseTransport):
    """The application's outbound calls, each to the simulator in this process that plays the
    host it names; any other host is refused as unreachable."""

    def __init__(self) -> None:
        self.hosts: dict[str, httpx.AsyncBaseTransport] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        transport = self.hosts.get(request.url.netloc.decode())
        if transport is None:
            raise httpx.ConnectError(f"{request.url.host} is not reachable", request=request)
        return await transport.handle_async_request(request)


class DemoService:
    """The application, its partners and its job queue, all in this process."""

    def __init__(
        self,
        make_app: AppFactory,
        settings: Settings,
        handlers: Mapping[str, Handler],
        job_kinds: frozenset[str],
        start: datetime,
    ) -> None:
        self.clock = DemoClock(start)
        self.app = make_app(settings.model_copy(update={"gateway_url": GATEWAY_URL}))
        self._routes = _Routes()
        base: Runtime = self.app.state.runtime
        self._own_http = base.http
        self.runtime = dataclasses.replace(
            base, clock=self.clock, http=httpx.AsyncClient(transport=self._routes)
        )
        self.app.state.runtime = self.runtime
        service = httpx.ASGITransport(app=self.app, raise_app_exceptions=False)
        self.http = httpx.AsyncClient(transport=service, base_url=SERVICE_URL, timeout=60)
        secret = settings.payment_secrets()[0]
        self.gateway_app = create_gateway_simulator(
            SERVICE_URL, secret, notify_transport=service, now=self.clock.now, backoff_seconds=0
        )
        self._routes.hosts[urlsplit(GATEWAY_URL).netloc] = httpx.ASGITransport(app=self.gateway_app)
        self.gateway = httpx.AsyncClient(
            transport=self._routes.hosts[urlsplit(GATEWAY_URL).netloc], base_url=GATEWAY_URL
        )
        self._platform_hosts: set[str] = set()
        self._platform_workers: list[dict[str, Any]] = []
        # Messages to workers and webhook deliveries are left to the service's own workers.
        self._worker = Worker(self.runtime, handlers)
        self._lane = Lane("demo", job_kinds)

    def at(self, moment: datetime) -> None:
        """Move the service's clock (and the partners' idea of a recent order) to `moment`."""
        self.clock.at = moment.astimezone(UTC)
        self._answer_platform()

    def platform_knows(self, urls: list[str], workers: list[dict[str, Any]]) -> None:
        """The platform simulator answers at its `urls`, and confirms `workers`, each with an
        order three hours before now."""
        self._platform_hosts = {urlsplit(url).netloc for url in urls}
        self._platform_workers = workers
        self._answer_platform()

    def _answer_platform(self) -> None:
        last_order_at = (self.clock.at - timedelta(hours=3)).isoformat()
        workers = [worker | {"last_order_at": last_order_at} for worker in self._platform_workers]
        simulator = httpx.ASGITransport(app=create_simulator(workers))
        for host in self._platform_hosts:
            self._routes.hosts[host] = simulator

    async def call(
        self, method: str, path: str, key: str, *, expect: int = 200, **kwargs: Any
    ) -> dict[str, Any]:
        """One request with a client's key (and a fresh Idempotency-Key for a POST); its JSON."""
        headers = {"Authorization": f"Bearer {key}"} | kwargs.pop("headers", {})
        if method == "POST":
            headers.setdefault("Idempotency-Key", f"demo-{uuid.uuid4()}")
        response = await self.http.request(method, path, headers=headers, **kwargs)
        if response.status_code != expect:
            raise DemoFailed(f"{method} {path}: {response.status_code} {response.text[:500]}")
        answer: dict[str, Any] = response.json()
        return answer

    async def steer(self, path: str, body: dict[str, Any]) -> Any:
        """A call to the gateway simulator's own controls (`/_sim/...`)."""
        response = await self.gateway.post(path, json=body)
        if response.status_code >= 300:
            raise DemoFailed(f"gateway {path}: {response.status_code} {response.text[:500]}")
        return response.json()

    async def settle(self) -> None:
        """Run the queued jobs the story needs (batch chunks, invoice activations, transfers and
        refunds) until none is left, each time waiting for the gateway's notifications."""
        while True:
            await self._notifications_delivered()
            if not await self._worker.run_once(self._lane):
                await self._notifications_delivered()
                return

    async def _notifications_delivered(self) -> None:
        sent = self.gateway_app.state.sim.notifier.sent
        for _ in range(1000):
            if all(item.answered is not None for item in sent):
                break
            await asyncio.sleep(0.01)
        refused = [(item.path, item.answered) for item in sent if item.answered != 200]
        if refused:
            raise DemoFailed(f"the service refused the gateway's notifications: {refused}")

    async def close(self) -> None:
        await self.http.aclose()
        await self.gateway.aclose()
        await self.gateway_app.state.sim.notifier.close()
        await self._own_http.aclose()
        await self.runtime.close()


class DemoFailed(RuntimeError):
    """The service did not answer the demo as the story expects: a bug worth reporting."""
