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
endpoint cannot be added without its row here.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from app.clients.service import create_client
from app.core.policy import POLICY, Action, Role
from app.demo.cover import Seed, add_covered_members, synthetic_id_number
from app.plans import DEFAULT_PLAN_CODE, get_plan
from tests.claims.conftest import claim, documents
from tests.conftest import bearer
from tests.enrolment import conftest as enrolment

http = enrolment.http  # the enrolment app: clock at 23 November 2026, platforms simulated

SPEC = Path(__file__).parents[1] / "openapi" / "openapi.json"
CALLERS: dict[str, tuple[Role, str | None] | None] = {
    "anonymous": None,
    "app A": (Role.CITIZEN_APP, None),
    "app B": (Role.CITIZEN_APP, None),
    "union A": (Role.UNION, "SH-PUDONG"),
    "union B": (Role.UNION, "SH-XUHUI"),
    "platform A": (Role.PLATFORM, "demo-delivery"),
    "platform B": (Role.PLATFORM, "slow-delivery"),
    "examiner": (Role.EXAMINER, None),
    "admin": (Role.ADMIN, None),
}
MEMBER_NUMBER = 777


@dataclass
class World:
    """The A tenants' objects, and a key per caller."""

    keys: dict[str, dict[str, str]]
    member_id: str
    worker_id: str
    union_claim: str
    app_claim: str
    enrolment: str
    batch: str
    webhook: str
    victim_client: str


@dataclass(frozen=True)
class Op:
    method: str
    path: str  # as in the spec
    action: Action
    request: Callable[[World], dict[str, Any]]  # url (filled-in path), json, extra headers
    owners: frozenset[str] | None = None  # None: no tenancy beyond the role
    kind: str = "object"  # "object" (404), "list" (absent) or "coverage" (looks unknown)
    absent: Callable[[World], str] | None = None  # for lists: what must not appear
    extra: dict[str, Any] = field(default_factory=dict)


def at(url: str, **body: Any) -> Callable[[World], dict[str, Any]]:
    """A request to `url` (formatted with the world) with an optional JSON body."""

    def build(world: World) -> dict[str, Any]:
        request: dict[str, Any] = {"url": url.format(w=world)}
        if body:
            request["json"] = json.loads(
                json.dumps(body["json"]).replace("{member}", world.member_id)
            )
        return request

    return build


def filed_claim(ref: str) -> dict:
    return claim("{member}", "accident_condolence", "accident", date(2026, 11, 1), ref)


MEMBER_READERS = frozenset({"app A", "app B", "union A", "examiner"})
UNION_A = frozenset({"union A"})
PLATFORM_A = frozenset({"platform A"})
ENROLMENT_READERS = frozenset({"app A", "examiner"})
UNION_CLAIM_READERS = frozenset({"union A", "examiner"})
APP_CLAIM_READERS = frozenset({"app A", "examiner"})
PLATFORM_CODE = {
    "code": "matrix-new",
    "name": "n",
    "work_types": ["food_delivery"],
    "verify_url": "https://platform.example.com/verify",
}

OPS = [
    Op("GET", "/v1/plans", Action.PLANS_READ, at("/v1/plans")),
    Op("GET", "/v1/plans/{plan_code}", Action.PLANS_READ, at(f"/v1/plans/{DEFAULT_PLAN_CODE}")),
    Op("GET", "/v1/clients/me", Action.CLIENTS_SELF, at("/v1/clients/me")),
    Op("GET", "/v1/clients", Action.CLIENTS_MANAGE, at("/v1/clients")),
    Op(
        "POST",
        "/v1/clients/{client_id}/revoke",
        Action.CLIENTS_MANAGE,
        at("/v1/clients/{w.victim_client}/revoke"),
    ),
    Op("GET", "/v1/platforms", Action.PLATFORMS_MANAGE, at("/v1/platforms")),
    Op("POST", "/v1/platforms", Action.PLATFORMS_MANAGE, at("/v1/platforms", json=PLATFORM_CODE)),
    Op("GET", "/v1/platforms/{code}", Action.PLATFORMS_MANAGE, at("/v1/platforms/demo-delivery")),
    Op(
        "PATCH",
        "/v1/platforms/{code}",
        Action.PLATFORMS_MANAGE,
        at("/v1/platforms/demo-delivery", json={"name": "demo"}),
    ),
    Op(
        "POST",
        "/v1/enrolments",
        Action.ENROLMENTS_CREATE,
        at("/v1/enrolments", json=enrolment.application(enrolment.IDLE, "rider-idle")),
    ),
    Op("GET", "/v1/enrolments", Action.ENROLMENTS_REVIEW, at("/v1/enrolments")),
    Op(
        "GET",
        "/v1/enrolments/{enrolment_id}",
        Action.ENROLMENTS_READ,
        at("/v1/enrolments/{w.enrolment}"),
        ENROLMENT_READERS,
    ),
    Op(
        "POST",
        "/v1/enrolments/{enrolment_id}/review",
        Action.ENROLMENTS_REVIEW,
        at("/v1/enrolments/{w.enrolment}/review", json={"decision": "reject", "note": "matrix"}),
    ),
    Op(
        "POST",
        "/v1/enrolments/{enrolment_id}/payment-orders",
        Action.PAYMENT_ORDERS_CREATE,
        at("/v1/enrolments/{w.enrolment}/payment-orders"),
        frozenset({"app A"}),
    ),
    Op(
        "POST",
        "/v1/members/lookup",
        Action.MEMBERS_LOOKUP,
        at("/v1/members/lookup", json={"id_number": synthetic_id_number(MEMBER_NUMBER)}),
        MEMBER_READERS,
    ),
    Op(
        "GET",
        "/v1/members/{member_id}/coverage",
        Action.MEMBERS_COVERAGE,
        at("/v1/members/{w.member_id}/coverage"),
        MEMBER_READERS,
    ),
    Op(
        "POST",
        "/v1/enrolment-batches",
        Action.BATCHES_CREATE,
        at(
            "/v1/enrolment-batches",
            json={
                "plan_code": DEFAULT_PLAN_CODE,
                "rows": [
                    {
                        "ref": "r1",
                        "id_number": enrolment.SLOW,
                        "name": "王",
                        "phone": "13912345678",
                        "platform_code": "demo-delivery",
                        "platform_worker_id": "rider-slow",
                        "work_type": "food_delivery",
                        "union_member_number": "HP-1",
                    }
                ],
            },
        ),
    ),
    Op(
        "GET",
        "/v1/enrolment-batches/{batch_id}",
        Action.BATCHES_READ,
        at("/v1/enrolment-batches/{w.batch}"),
        UNION_A,
    ),
    Op(
        "GET",
        "/v1/enrolment-batches/{batch_id}/rows",
        Action.BATCHES_READ,
        at("/v1/enrolment-batches/{w.batch}/rows"),
        UNION_A,
    ),
    Op(
        "GET",
        "/v1/enrolment-batches/{batch_id}/rows.csv",
        Action.BATCHES_READ,
        at("/v1/enrolment-batches/{w.batch}/rows.csv"),
        UNION_A,
    ),
    Op(
        "POST",
        "/v1/claims",
        Action.CLAIMS_CREATE,
        at("/v1/claims", json=filed_claim("matrix-new")),
        MEMBER_READERS,
    ),
    Op(
        "POST",
        "/v1/claims/quote",
        Action.CLAIMS_QUOTE,
        at("/v1/claims/quote", json=filed_claim("matrix-quote")),
        MEMBER_READERS,
    ),
    Op(
        "GET",
        "/v1/claims",
        Action.CLAIMS_READ,
        at("/v1/claims?member_id={w.member_id}"),
        UNION_CLAIM_READERS,
        kind="list",
        absent=lambda w: w.union_claim,
    ),
    Op(
        "GET",
        "/v1/claims/{claim_id}",
        Action.CLAIMS_READ,
        at("/v1/claims/{w.union_claim}"),
        UNION_CLAIM_READERS,
    ),
    Op(
        "POST",
        "/v1/claims/{claim_id}/documents",
        Action.CLAIMS_CREATE,
        at("/v1/claims/{w.app_claim}/documents", json={"documents": documents("accident_proof")}),
        APP_CLAIM_READERS,
    ),
    Op(
        "POST",
        "/v1/claims/{claim_id}/review",
        Action.CLAIMS_REVIEW,
        at("/v1/claims/{w.app_claim}/review", json={"decision": "reject", "reason": "matrix"}),
    ),
    Op(
        "GET",
        "/v1/platform/workers/{platform_worker_id}/coverage",
        Action.PLATFORM_COVERAGE,
        at("/v1/platform/workers/{w.worker_id}/coverage"),
        PLATFORM_A,
        kind="coverage",
    ),
    Op(
        "POST",
        "/v1/platform/coverage-queries",
        Action.PLATFORM_COVERAGE,
        lambda w: {"url": "/v1/platform/coverage-queries", "json": {"worker_ids": [w.worker_id]}},
        PLATFORM_A,
        kind="coverage",
    ),
    Op(
        "GET",
        "/v1/platform/webhooks",
        Action.PLATFORM_WEBHOOKS,
        at("/v1/platform/webhooks"),
        PLATFORM_A,
        kind="list",
        absent=lambda w: w.webhook,
    ),
    Op(
        "POST",
        "/v1/platform/webhooks",
        Action.PLATFORM_WEBHOOKS,
        at("/v1/platform/webhooks", json={"url": "http://127.0.0.1:9/matrix"}),
    ),
    Op(
        "GET",
        "/v1/platform/webhooks/{endpoint_id}",
        Action.PLATFORM_WEBHOOKS,
        at("/v1/platform/webhooks/{w.webhook}"),
        PLATFORM_A,
    ),
    Op(
        "POST",
        "/v1/platform/webhooks/{endpoint_id}/secret",
        Action.PLATFORM_WEBHOOKS,
        at("/v1/platform/webhooks/{w.webhook}/secret"),
        PLATFORM_A,
    ),
    Op(
        "GET",
        "/v1/reports/summary",
        Action.REPORTS_READ,
        at("/v1/reports/summary?from=2026-01-01&to=2026-12-31"),
    ),
    # Last: it removes the endpoint the rows above read.
    Op(
        "DELETE",
        "/v1/platform/webhooks/{endpoint_id}",
        Action.PLATFORM_WEBHOOKS,
        at("/v1/platform/webhooks/{w.webhook}"),
        PLATFORM_A,
    ),
]
# Not keyed: the gateway signs them (tests/enrolment/test_payments.py, tests/claims/).
SIGNED = {("POST", "/v1/payment-notifications"), ("POST", "/v1/payout-notifications")}
UNAUTHENTICATED = {("GET", "/healthz"), ("GET", "/readyz")}


def test_the_matrix_names_every_operation_of_the_spec():
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    published = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    assert {(op.method, op.path) for op in OPS} == published - SIGNED - UNAUTHENTICATED


@pytest.fixture
async def app(settings, test_var_dir, db, slow_platform_url):
    application = await enrolment.make_enrol_app(
        settings,
        test_var_dir,
        db,
        now=enrolment.NOW,
        workers=enrolment.WORKERS,
        slow_url=slow_platform_url,
        MUTUALAID_WEBHOOK_ALLOW_PRIVATE_URLS="true",
    )
    yield application
    await enrolment.close_app(application)


slow_platform_url = enrolment.slow_platform_url


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
                get_plan(DEFAULT_PLAN_CODE),
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
    return await http.request(op.method, request["url"], json=request.get("json"), headers=headers)


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
