"""Every role and tenant against every authenticated endpoint.

Objects are owned by the "A" tenants (app A's enrolment and claim, union A's member, batch and
claim, platform A's worker and webhook endpoint). For each endpoint and each caller the
expectation follows from the policy table and ownership alone:

- no key: 401;
- a role the policy does not allow: 403;
- an allowed role that does not own the object: 404 (a list answers without it; a platform's
  coverage answer is the one an unknown worker gets);
- the owner: neither of those.

The table of endpoints must name every authenticated operation of the published spec, so a new
endpoint cannot be added without its row (tests/support/tenancy.py).
"""

from __future__ import annotations

import json
import uuid
from datetime import date
from pathlib import Path

import pytest

from app.clients.service import create_client
from app.core.policy import POLICY, Role
from app.demo.cover import Seed, add_covered_members
from app.payments import refunds
from app.payments.models import PaymentOrder
from app.plans import DEFAULT_PLAN_CODE, in_force
from tests.support import enrolment
from tests.support.payments import add_order
from tests.support.service import bearer
from tests.support.tenancy import CALLERS, MEMBER_NUMBER, OPS, Op, World, filed_claim

SPEC = Path(__file__).parents[1] / "openapi" / "openapi.json"
# Not keyed: the gateway signs them (tests/payments/test_payments.py, tests/claims/).
SIGNED = {
    ("POST", "/v1/payment-notifications"),
    ("POST", "/v1/payout-notifications"),
    ("POST", "/v1/refund-notifications"),
}
UNAUTHENTICATED = {("GET", "/healthz"), ("GET", "/readyz")}


def test_the_matrix_names_every_operation_of_the_spec():
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    published = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    assert {(op.method, op.path) for op in OPS} == published - SIGNED - UNAUTHENTICATED


@pytest.fixture
async def app(settings, test_var_dir, db, slow_platform_url):
    """The enrolment app (clock at 23 November 2026, platforms simulated), webhooks allowed to
    reach 127.0.0.1."""
    async with enrolment.enrolment_app(
        settings,
        test_var_dir,
        db,
        slow_url=slow_platform_url,
        MUTUALAID_WEBHOOK_ALLOW_PRIVATE_URLS="true",
    ) as application:
        yield application


async def created(http, headers, url: str, body: dict | None = None) -> dict:
    response = await http.post(
        url, json=body, headers=headers | {"Idempotency-Key": str(uuid.uuid4())}
    )
    assert response.status_code in (201, 202), response.text
    return response.json()


@pytest.fixture
async def world(http, db, runtime, api_key) -> World:
    keys = {
        name: bearer(await api_key(role, org, f"matrix {name}"))
        for name, caller in CALLERS.items()
        if caller is not None
        for role, org in [caller]
    }
    keys["anonymous"] = {}
    async with db.writer() as session:
        victim = await create_client(session, role=Role.EXAMINER, name="matrix victim")
        [member] = await add_covered_members(
            session,
            runtime.cipher,
            Seed(
                in_force(DEFAULT_PLAN_CODE, date(2026, 1, 1)),
                date(2026, 1, 1),
                victim.client.id,
                "demo-delivery",
                "SH-PUDONG",
            ),
            [MEMBER_NUMBER],
        )
        await session.commit()
    member_id = str(member.member_id)
    as_member = json.loads(json.dumps(filed_claim("x")).replace("{member}", member_id))
    union_claim = await created(
        http,
        keys["union A"],
        "/v1/claims",
        as_member | {"event": as_member["event"] | {"ref": "union-claim"}},
    )
    # App A's claim waits for a document, so that adding one is a real change.
    app_claim = await created(
        http,
        keys["app A"],
        "/v1/claims",
        as_member | {"event": as_member["event"] | {"ref": "app-claim"}, "documents": []},
    )
    application = await created(http, keys["app A"], "/v1/enrolments", enrolment.application())
    batch = await created(
        http,
        keys["union A"],
        "/v1/enrolment-batches",
        {
            "plan_code": DEFAULT_PLAN_CODE,
            "rows": [
                {
                    "ref": "r0",
                    "id_number": enrolment.TURNS_60_TOMORROW,
                    "name": "王",
                    "phone": "13912345678",
                    "platform_code": "demo-delivery",
                    "platform_worker_id": "rider-59",
                    "work_type": "food_delivery",
                    "union_member_number": "HP-0",
                }
            ],
        },
    )
    webhook = await created(
        http, keys["platform A"], "/v1/platform/webhooks", {"url": "http://127.0.0.1:9/a"}
    )
    bill = await http.post(
        "/v1/reconciliations?date=2026-11-22",
        content=b"kind,gateway_ref,our_ref,amount_fen,occurred_at,fee_fen\n",
        headers=keys["finance"] | {"Content-Type": "text/csv"},
    )
    assert bill.status_code == 202, bill.text
    order = await add_order(db, runtime.cipher, member.member_id, victim.client.id)
    async with db.writer() as session:
        paid = await session.get(PaymentOrder, uuid.UUID(order["id"]), with_for_update=True)
        paid.received_fen = paid.amount_fen
        refund = await refunds.owe(session, paid, paid.amount_fen, "matrix")
        await session.commit()
    return World(
        keys=keys,
        member_id=member_id,
        worker_id=member.platform_worker_id,
        union_claim=union_claim["id"],
        app_claim=app_claim["id"],
        enrolment=application["id"],
        batch=batch["id"],
        webhook=webhook["id"],
        victim_client=str(victim.client.id),
        payout=union_claim["payout"]["id"],
        reconciliation=bill.json()["id"],
        refund=str(refund.id),
    )


def expected(op: Op, caller: str) -> str:
    spec = CALLERS[caller]
    if spec is None:
        return "401"
    if spec[0] not in POLICY[op.action]:
        return "403"
    if op.owners is not None and caller not in op.owners:
        return {"object": "404", "list": "absent", "coverage": "unknown"}[op.kind]
    return "allowed"


async def call(http, world: World, op: Op, caller: str):
    request = op.request(world)
    headers = world.keys[caller] | (
        {"Idempotency-Key": str(uuid.uuid4())} if op.method != "GET" else {}
    )
    return await http.request(
        op.method,
        request["url"],
        json=request.get("json"),
        content=request.get("content"),
        headers=headers | request.get("headers", {}),
    )


async def test_every_role_and_tenant_against_every_endpoint(http, world):
    outcomes: dict[str, int] = {}
    failures = []
    # Refusals first (they must change nothing), then the owners, in table order.
    cells = [(op, caller) for op in OPS for caller in CALLERS]
    cells.sort(key=lambda cell: expected(*cell) == "allowed")
    for op, caller in cells:
        want = expected(op, caller)
        response = await call(http, world, op, caller)
        outcomes[want] = outcomes.get(want, 0) + 1
        got = response.status_code
        ok = {
            "401": got == 401,
            "403": got == 403 and response.json().get("code") == "forbidden",
            "404": got == 404,
            "absent": got == 200
            and op.absent is not None
            and op.absent(world) not in response.text,
            "unknown": got == 200 and '"covered":true' not in response.text.replace(" ", ""),
            "allowed": got < 500 and got not in (401, 403, 404),
        }[want]
        if not ok:
            failures.append(
                f"{op.method} {op.path} as {caller}: wanted {want}, got {got} {response.text[:200]}"
            )
    assert failures == []
    # Every kind of cell was exercised.
    assert set(outcomes) == {"401", "403", "404", "absent", "unknown", "allowed"}
