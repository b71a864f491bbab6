"""The tenancy matrix: every authenticated operation of the published spec, with the policy
action it needs and which of the "A" tenants own the object it touches (tests/test_tenancy_matrix.py
runs it; tests/contract/test_fuzzing.py sends each operation as a role the policy allows)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from app.core.policy import Action, Role
from app.demo.cover import SEED_NAME, synthetic_id_number
from app.plans import DEFAULT_PLAN_CODE
from tests.support.claims import claim, documents
from tests.support.enrolment import IDLE, SLOW, application

CALLERS: dict[str, tuple[Role, str | None] | None] = {
    "anonymous": None,
    "app A": (Role.CITIZEN_APP, None),
    "app B": (Role.CITIZEN_APP, None),
    "union A": (Role.UNION, "SH-PUDONG"),
    "union B": (Role.UNION, "SH-XUHUI"),
    "platform A": (Role.PLATFORM, "demo-delivery"),
    "platform B": (Role.PLATFORM, "slow-delivery"),
    "examiner": (Role.EXAMINER, None),
    "finance": (Role.FINANCE, None),
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
    payout: str
    reconciliation: str
    refund: str


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
ACCOUNT_SETTERS = frozenset({"app A", "app B", "union A"})
PAYEE_ACCOUNT = {"kind": "bank", "account_no": "6222000011112222", "holder_name": "李四"}
PLATFORM_CODE = {
    "code": "matrix-new",
    "name": "n",
    "work_types": ["food_delivery"],
    "verify_url": "https://platform.example.com/verify",
}

OPS = [
    Op("GET", "/v1/plans", Action.PLANS_READ, at("/v1/plans")),
    Op("GET", "/v1/plans/{plan_code}", Action.PLANS_READ, at(f"/v1/plans/{DEFAULT_PLAN_CODE}")),
    Op(
        "GET",
        "/v1/plans/{plan_code}/versions/{version}",
        Action.PLANS_READ,
        at(f"/v1/plans/{DEFAULT_PLAN_CODE}/versions/2026.1"),
    ),
    Op("GET", "/v1/clients/me", Action.CLIENTS_SELF, at("/v1/clients/me")),
    Op("GET", "/v1/clients", Action.CLIENTS_MANAGE, at("/v1/clients")),
    Op(
        "POST",
        "/v1/clients/{client_id}/revoke",
        Action.CLIENTS_MANAGE,
        at("/v1/clients/{w.victim_client}/revoke"),
    ),
    Op(
        "PATCH",
        "/v1/clients/{client_id}",
        Action.CLIENTS_MANAGE,
        at("/v1/clients/{w.victim_client}", json={"rate_limit_per_second": 30}),
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
        at("/v1/enrolments", json=application(IDLE, "rider-idle")),
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
        at(
            "/v1/members/lookup",
            json={"id_number": synthetic_id_number(MEMBER_NUMBER), "name": SEED_NAME},
        ),
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
                        "id_number": SLOW,
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
        "/v1/members/{member_id}/access-log",
        Action.MEMBERS_ACCESS_LOG,
        at("/v1/members/{w.member_id}/access-log"),
    ),
    Op(
        "POST",
        "/v1/claims/{claim_id}/appeal",
        Action.CLAIMS_APPEAL,
        at("/v1/claims/{w.union_claim}/appeal", json={"grounds": "matrix"}),
        frozenset({"union A"}),
    ),
    Op(
        "POST",
        "/v1/claims/{claim_id}/withdraw",
        Action.CLAIMS_WITHDRAW,
        at("/v1/claims/{w.app_claim}/withdraw"),
        frozenset({"app A"}),
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
    Op(
        "GET",
        "/v1/union/members",
        Action.UNION_MEMBERS,
        at("/v1/union/members"),
        UNION_A,
        kind="list",
        absent=lambda w: w.member_id,
    ),
    # Each union reads its own figures: nothing of another's to refuse (tests/unions/).
    Op(
        "GET",
        "/v1/reports/union-summary",
        Action.UNION_REPORTS,
        at("/v1/reports/union-summary?from=2026-01-01&to=2026-12-31"),
    ),
    Op("GET", "/v1/payouts", Action.PAYOUTS_READ, at("/v1/payouts")),
    Op("GET", "/v1/payouts/{payout_id}", Action.PAYOUTS_READ, at("/v1/payouts/{w.payout}")),
    Op(
        "POST",
        "/v1/payouts/{payout_id}/approve",
        Action.PAYOUTS_APPROVE,
        at("/v1/payouts/{w.payout}/approve"),
    ),
    Op(
        "POST",
        "/v1/payouts/{payout_id}/reissue",
        Action.PAYOUTS_REISSUE,
        at("/v1/payouts/{w.payout}/reissue", json={}),
    ),
    Op(
        "PUT",
        "/v1/members/{member_id}/payout-account",
        Action.PAYOUT_ACCOUNTS_SET,
        at("/v1/members/{w.member_id}/payout-account", json=PAYEE_ACCOUNT),
        ACCOUNT_SETTERS,
    ),
    Op("GET", "/v1/refunds", Action.REFUNDS_READ, at("/v1/refunds")),
    Op(
        "POST",
        "/v1/refunds/{refund_id}/retry",
        Action.REFUNDS_RETRY,
        at("/v1/refunds/{w.refund}/retry"),  # pending: 409 for finance, and no change
    ),
    Op(
        "GET",
        "/v1/reports/fund",
        Action.FUND_READ,
        at("/v1/reports/fund?from=2026-01-01&to=2026-12-31"),
    ),
    Op(
        "POST",
        "/v1/reconciliations",
        Action.RECONCILIATIONS,
        lambda w: {
            "url": "/v1/reconciliations?date=2026-11-23",
            "content": b"kind,gateway_ref,our_ref,amount_fen,occurred_at,fee_fen\n",
            "headers": {"Content-Type": "text/csv"},
        },
    ),
    Op(
        "GET",
        "/v1/reconciliations/{reconciliation_id}",
        Action.RECONCILIATIONS,
        at("/v1/reconciliations/{w.reconciliation}"),
    ),
    Op(
        "GET",
        "/v1/reconciliations/{reconciliation_id}/lines",
        Action.RECONCILIATIONS,
        at("/v1/reconciliations/{w.reconciliation}/lines"),
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
