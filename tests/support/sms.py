"""The SMS gateway in tests: the simulator in-process (behind httpx's ASGI transport) or as a
real `mutualaid sms-sim` process, our client pointed at it, the service's runtime sending
through it, and `forbidden_in`: what a message to a worker must never say."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import httpx

from app import plans
from app.core.outbound import tls_context
from app.notifications.client import SmsClient, SmsConfig
from app.notifications.contract import MessageIn
from app.notifications.simulator import SmsSim, create_sms_simulator
from tests.support.processes import free_port, running, start, wait_until_serving

SECRET = "sms-test-secret"
SMS_URL = "http://sms.test"
# The service's settings for sending through the in-process simulator: one attempt per call,
# failed attempts retried at once, so that a test sees a message's whole life.
SMS_SETTINGS = {
    "MUTUALAID_SMS_URL": SMS_URL,
    "MUTUALAID_SMS_SECRET": SECRET,
    "MUTUALAID_SMS_TIMEOUT_SECONDS": 2,
    "MUTUALAID_SMS_RETRIES": 0,
    "MUTUALAID_SMS_RETRY_BASE_SECONDS": 0,
}


def message(message_id: str = "m-1", phone: str = "13812345678", text: str = "您好") -> MessageIn:
    return MessageIn(message_id=message_id, phone=phone, text=text)


def sim_of(simulator: Any) -> SmsSim:
    sim: SmsSim = simulator.state.sim
    return sim


@contextlib.asynccontextmanager
async def in_process_sms(
    secret: str = SECRET, **config: Any
) -> AsyncIterator[tuple[SmsClient, SmsSim, list[httpx.Request]]]:
    """Our client on the simulator in-process; every request the client made is in the list."""
    simulator = create_sms_simulator(secret.encode())
    tries: list[httpx.Request] = []

    async def record(request: httpx.Request) -> None:
        tries.append(request)

    http = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=simulator), event_hooks={"request": [record]}
    )
    settings = {"timeout_seconds": 2.0, "retries": 0, "backoff_seconds": 0.0} | config
    client = SmsClient(SmsConfig(SMS_URL, secret.encode(), **settings), http)
    try:
        yield client, sim_of(simulator), tries
    finally:
        await http.aclose()


def with_sms_simulator(application: Any, **mounts: httpx.AsyncBaseTransport) -> SmsSim:
    """Route the application's outbound calls to `SMS_URL` into a fresh simulator, those to
    the other `mounts` (URL prefix -> transport) where they say, and the rest to the network;
    the simulator."""
    simulator = create_sms_simulator(SECRET.encode())
    runtime = application.state.runtime
    routes = {SMS_URL: httpx.ASGITransport(app=simulator), **mounts}
    routes["all://"] = httpx.AsyncHTTPTransport(verify=tls_context())
    application.state.runtime = replace(
        runtime, http=httpx.AsyncClient(mounts=routes, follow_redirects=False)
    )
    return sim_of(simulator)


@contextlib.asynccontextmanager
async def sms_sim_process(env: dict[str, str] | None = None) -> AsyncIterator[str]:
    """`mutualaid sms-sim` as a real process on a free port, checking `SECRET`; its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = start(["sms-sim", "--port", str(port), "--secret", SECRET], env or dict(os.environ))
    with running(process):
        await wait_until_serving(url)
        yield url


# Words that name an illness, a disability or its grade, or a death, in the forms a message
# could take them; and English codes that would say the same.
FORBIDDEN_WORDS = (
    "疾病", "重疾", "重大疾病", "癌", "肿瘤", "病理", "诊断", "伤残", "残疾", "等级", "级",
    "身故", "死亡", "去世", "逝世", "亡", "死", "丧葬", "注销",
    "death", "disab", "grade", "disease", "illness", "pathology", "diagnosis", "hukou",
)  # fmt: skip
ID_NUMBER = re.compile(r"\d{17}[\dXx]|\d{15}")


def forbidden_in(text: str) -> list[str]:
    """What a message must not hold: a word above, a disease's name or code or a benefit's
    name from any installed plan, an ID-number-like run of digits."""
    names = {
        value
        for code in plans.book().codes()
        for plan in plans.book().versions(code)
        for value in (
            *(d.name for d in plan.diseases.values()),
            *plan.diseases,
            *(terms.name for terms in plan.benefits.values()),
        )
    }
    found = [word for word in (*FORBIDDEN_WORDS, *names) if word.lower() in text.lower()]
    return found + ID_NUMBER.findall(text)
