"""Claims: the app with its clock at 23 November 2026, 10:00 in Shanghai, members covered for
2026 (1 January to 31 December) written straight to the tables, claim bodies, and filing,
reviewing and paying claims over HTTP."""

from __future__ import annotations

import hashlib
import itertools
import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime
from typing import Any

from app.clients.service import create_client
from app.core.clock import SHANGHAI
from app.core.policy import Role
from app.core.signing import signature_header
from app.demo.cover import Seed, add_covered_members
from app.main import create_app
from app.plans import DEFAULT_PLAN_CODE, in_force
from app.platforms.schemas import PlatformIn
from app.platforms.service import add_platform
from tests.support.service import TEST_PAYMENT_SECRET, make_settings

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)
COVER_STARTS = date(2026, 1, 1)
PLAN = in_force(DEFAULT_PLAN_CODE, date(2026, 1, 1))
_numbers = itertools.count(1)

# Every document type any benefit of the plan requires.
ALL_DOCUMENTS = sorted(
    {kind for terms in PLAN.benefits.values() for kind in terms.required_documents.value}
)


def documents(*types: str) -> list[dict]:
    return [
        {"type": kind, "ref": f"doc-{kind}", "sha256": hashlib.sha256(kind.encode()).hexdigest()}
        for kind in (types or ALL_DOCUMENTS)
    ]


def claim(member_id, benefit: str, kind: str, occurred_on: date, ref: str, **facts) -> dict:
    body = {
        "member_id": str(member_id),
        "benefit": benefit,
        "event": {"kind": kind, "occurred_on": occurred_on.isoformat(), "ref": ref},
        "facts": {k: v.isoformat() if isinstance(v, date) else v for k, v in facts.items()},
        "documents": documents(),
    }
    if benefit.endswith("_death"):
        body["beneficiary"] = {"name": "马大龙", "id_number": "11010519491231002X"}
    return body


@asynccontextmanager
async def claims_app(settings, var_dir) -> AsyncIterator[Any]:
    """The app on the test database with its clock at NOW (the `app` fixture of claims tests)."""
    application = create_app(
        make_settings(settings.database_url, var_dir, MUTUALAID_CLOCK=NOW.isoformat())
    )
    yield application
    await application.state.runtime.close()


DEMO_PLATFORM = PlatformIn(
    code="demo-delivery",
    name="demo",
    work_types=["food_delivery"],
    verify_url="http://platform.test/verify",
)


async def add_seeder(session, cipher) -> uuid.UUID:
    """A client and a platform that seeded members' records point at; the client's id."""
    issued = await create_client(session, role=Role.CITIZEN_APP, name="seed-app")
    await add_platform(session, cipher, DEMO_PLATFORM, None)
    return issued.client.id


async def seed(db, runtime) -> uuid.UUID:
    """`add_seeder`, committed."""
    async with db.writer() as session:
        client_id = await add_seeder(session, runtime.cipher)
        await session.commit()
    return client_id


def covered_members(db, runtime, seeder):
    """`await make(n, starts_on=..., union=...)` -> the new members' ids."""

    async def make(n: int = 1, *, starts_on: date = COVER_STARTS, union: str | None = None):
        async with db.writer() as session:
            members = await add_covered_members(
                session,
                runtime.cipher,
                Seed(PLAN, starts_on, seeder, "demo-delivery", union),
                [next(_numbers) for _ in range(n)],
            )
            await session.commit()
        return [m.member_id for m in members]

    return make


async def file(http, headers, body, key=None):
    return await http.post(
        "/v1/claims", json=body, headers=headers | {"Idempotency-Key": key or str(uuid.uuid4())}
    )


async def filed(http, headers, body) -> dict:
    response = await file(http, headers, body)
    assert response.status_code == 201, response.text
    return response.json()


async def review(http, examiner, claim_id, **body) -> dict:
    response = await http.post(f"/v1/claims/{claim_id}/review", json=body, headers=examiner)
    assert response.status_code == 200, response.text
    return response.json()


async def coverage(http, headers, member_id) -> dict:
    response = await http.get(f"/v1/members/{member_id}/coverage", headers=headers)
    assert response.status_code == 200, response.text
    [period] = [p for p in response.json()["periods"] if p["status"] == "active"]
    return period


def used(period: dict, benefit: str) -> int:
    return next(b["used_fen"] for b in period["benefits"] if b["benefit"] == benefit)


async def notify_payout(http, body: dict, secret: str = TEST_PAYMENT_SECRET):
    raw = json.dumps(body).encode()
    return await http.post(
        "/v1/payout-notifications",
        content=raw,
        headers={
            "Content-Type": "application/json",
            "X-Signature": signature_header(secret.encode(), int(time.time()), raw),
        },
    )


ACCOUNT = {"kind": "alipay", "account_no": "13800005678", "holder_name": "张三"}


async def set_account(http, headers, member_id, account: dict | None = None):
    """The member's payout account on file, as the government app sets it."""
    return await http.put(
        f"/v1/members/{member_id}/payout-account", json=account or ACCOUNT, headers=headers
    )
