"""Enrolment: an app with a fixed clock (23 November 2026, 10:00 in Shanghai) whose platforms
answer through the real simulator, the workers those platforms know, and applying over HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import uvicorn

from app.core.clock import SHANGHAI
from app.core.outbound import tls_context
from app.platforms.schemas import PlatformIn
from app.platforms.service import add_platform
from app.platforms.simulator import create_simulator
from tests.support.probes import build_probe_app
from tests.support.rules import id_number
from tests.support.service import asgi_client, make_settings

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)
GANSU = id_number(date(1990, 5, 20), address="620102")
TURNS_60_TOMORROW = id_number(date(1966, 11, 24), sequence="224")
TURNS_60_TODAY = id_number(date(1966, 11, 23), sequence="226")
IDLE = id_number(date(1988, 7, 7), sequence="331")
SLOW = id_number(date(1991, 1, 1), sequence="441")


def worker(worker_id: str, id_no: str, **changes) -> dict:
    return {
        "platform_worker_id": worker_id,
        "id_number": id_no,
        "name": "测试",
        "city": "shanghai",
        "work_type": "food_delivery",
        "orders_last_7_days": 30,
        "last_order_at": (NOW - timedelta(hours=5)).isoformat(),
    } | changes


WORKERS = [
    worker("rider-gansu", GANSU),
    worker("rider-59", TURNS_60_TOMORROW),
    worker("rider-60", TURNS_60_TODAY),
    worker(
        "rider-idle",
        IDLE,
        orders_last_7_days=0,
        last_order_at=(NOW - timedelta(days=9)).isoformat(),
    ),
    worker("rider-slow", SLOW, behaviour="timeout"),
]


@asynccontextmanager
async def slow_platform() -> AsyncIterator[str]:
    """The simulator over real HTTP on 127.0.0.1 (the workers above, slow ones answering after
    2 s); its URL."""
    server = uvicorn.Server(
        uvicorn.Config(
            create_simulator(WORKERS, slow_seconds=2.0),
            host="127.0.0.1",
            port=0,
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
        await asyncio.sleep(0.01)
    yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    server.should_exit = True
    await task


async def make_enrol_app(
    settings, var_dir, db, *, now, workers, slow_url, register=True, **overrides
):
    """The app with its clock at `now`; `demo-delivery` answers in process through the
    simulator, `slow-delivery` over real HTTP (so timeouts are real)."""
    application = build_probe_app(
        make_settings(
            settings.database_url,
            var_dir,
            MUTUALAID_CLOCK=now.isoformat(),
            MUTUALAID_PLATFORM_TIMEOUT_SECONDS=0.3,
            MUTUALAID_PLATFORM_ATTEMPTS=2,
            **overrides,
        )
    )
    simulator = httpx.ASGITransport(app=create_simulator(workers))
    await application.state.runtime.http.aclose()
    application.state.runtime = replace(
        application.state.runtime,
        http=httpx.AsyncClient(
            mounts={
                "http://platform.test": simulator,
                "all://": httpx.AsyncHTTPTransport(verify=tls_context()),
            }
        ),
    )
    if register:
        async with db.writer() as session:
            # demo-delivery also verifies in bulk; slow-delivery only one worker at a time.
            for code, url, bulk_url in (
                (
                    "demo-delivery",
                    "http://platform.test/verify",
                    "http://platform.test/verify/bulk",
                ),
                ("slow-delivery", f"{slow_url}/verify", None),
            ):
                await add_platform(
                    session,
                    application.state.runtime.cipher,
                    PlatformIn(
                        code=code,
                        name=code,
                        work_types=["food_delivery"],
                        verify_url=url,
                        bulk_verify_url=bulk_url,
                    ),
                    None,
                )
            await session.commit()
    return application


async def close_app(application) -> None:
    await application.state.runtime.http.aclose()
    await application.state.runtime.db.dispose()


@asynccontextmanager
async def enrolment_app(
    settings, var_dir, db, *, slow_url, now=NOW, workers=WORKERS, **overrides
) -> AsyncIterator[Any]:
    """`make_enrol_app`, closed on leaving (the `app` fixture of enrolment tests)."""
    application = await make_enrol_app(
        settings, var_dir, db, now=now, workers=workers, slow_url=slow_url, **overrides
    )
    yield application
    await close_app(application)


def clients_at(settings, var_dir, db, slow_url, **overrides):
    """`async with open_client(moment) as http:` the same database with the service's clock at
    `moment`, and rider-gansu's last platform order an hour before it (`overrides`: more
    settings)."""

    @asynccontextmanager
    async def open_client(moment: datetime) -> AsyncIterator[httpx.AsyncClient]:
        recent = (moment - timedelta(hours=1)).isoformat()
        application = await make_enrol_app(
            settings,
            var_dir,
            db,
            now=moment,
            slow_url=slow_url,
            register=False,
            workers=[worker("rider-gansu", GANSU, last_order_at=recent)],
            **overrides,
        )
        try:
            async with asgi_client(application) as client:
                yield client
        finally:
            await close_app(application)

    return open_client


def application(id_no: str = GANSU, worker_id: str = "rider-gansu", **changes) -> dict:
    return {
        "plan_code": "shanghai-new-employment-e",
        "id_number": id_no,
        "name": "马小龙",
        "phone": "13812345678",
        "platform_code": "demo-delivery",
        "platform_worker_id": worker_id,
        "work_type": "food_delivery",
        "work_district": "310101",  # 黄浦区: a member of SH-HUANGPU
        "union": {"join": True},
        "consent": {"sensitive_personal_data": True},
    } | changes


async def apply(http, headers, body, key=None):
    return await http.post(
        "/v1/enrolments",
        json=body,
        headers=headers | {"Idempotency-Key": key or f"k-{id(body)}-{body['id_number']}"},
    )
