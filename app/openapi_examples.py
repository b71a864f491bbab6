"""A request example for every operation that takes a body, by operation id, merged into the
published spec (`app.main`): what Swagger UI's "Try it out" starts from and what an integrator
copies. tests/test_openapi.py checks that each validates against its operation's schema.

The values are the demo world's where one exists (the plan, the demo platform and its rider
`rider-001`); ids of things a call creates (members, claims, payouts, orders) are placeholders.
"""

from __future__ import annotations

from typing import Any

_MEMBER = "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
_ORDER = "7b0e4a1c-9d2f-4e6a-8b3c-5d7f9a1b2c3e"
_PAYOUT = "c4d5e6f7-0819-4a2b-9c3d-4e5f60718293"
_REFUND = "0d9e8f7a-6b5c-4d3e-a2f1-0e9d8c7b6a59"
_SHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
_PLAN = "shanghai-new-employment-e"
_ACCOUNT = {
    "kind": "bank",
    "account_no": "6222021001123456789",
    "holder_name": "马小龙",
    "bank_name": "工商银行",
}
_CONDOLENCE = {
    "member_id": _MEMBER,
    "benefit": "accident_condolence",
    "event": {"kind": "accident", "occurred_on": "2026-11-20", "ref": "accident-2026-11-20"},
    "documents": [
        {"type": kind, "ref": f"upload/{kind}.pdf", "sha256": _SHA256}
        for kind in ("id_proof", "accident_proof", "medical_record")  # the plan's list for it
    ],
}

JSON_EXAMPLES: dict[str, Any] = {
    "clients_change": {"rate_limit_per_second": 2000},
    "claims_file_claim": _CONDOLENCE,
    "claims_quote": _CONDOLENCE,
    "claims_appeal_claim": {"grounds": "The hospital's discharge summary was left out; attached."},
    "claims_add_documents": {
        "documents": [
            {"type": "discharge_summary", "ref": "upload/discharge.pdf", "sha256": _SHA256}
        ]
    },
    "claims_review_claim": {"decision": "approve", "reason": "Documents match the event."},
    "enrolment-batches_submit": {
        "plan_code": _PLAN,
        "rows": [
            {
                "ref": "row-1",
                "id_number": "620102199005201237",
                "name": "马小龙",
                "phone": "13761234567",
                "platform_code": "demo-delivery",
                "platform_worker_id": "rider-001",
                "work_type": "food_delivery",
                "union_member_number": "XH-000123",
            }
        ],
    },
    "enrolments_apply": {
        "plan_code": _PLAN,
        "id_number": "620102199005201237",
        "name": "马小龙",
        "phone": "13761234567",
        "platform_code": "demo-delivery",
        "platform_worker_id": "rider-001",
        "work_type": "food_delivery",
        "work_district": "310104",
        "union": {"join": True},
        "consent": {"sensitive_personal_data": True},
    },
    "enrolments_review": {"decision": "approve", "note": "Platform records checked by phone."},
    "members_lookup": {"id_number": "620102199005201237", "name": "马小龙"},
    "payouts_set_payout_account": _ACCOUNT,
    "payments_payment_notification": {
        "event_id": "evt-20261123-000001",
        "payment_order_id": _ORDER,
        "status": "succeeded",
        "amount_fen": 7200,
        "paid_at": "2026-11-23T10:05:00+08:00",
        "channel": "alipay",
    },
    "payouts_payout_notification": {
        "event_id": "evt-20261124-000042",
        "payout_id": _PAYOUT,
        "status": "succeeded",
        "amount_fen": 50000,
        "paid_at": "2026-11-24T09:30:00+08:00",
        "channel": "bank",
    },
    "payouts_reissue_payout": {"payee_account": _ACCOUNT},
    "platform partners_coverage_queries": {"worker_ids": ["rider-001", "rider-002"]},
    "platform partners_register": {
        "url": "https://hooks.demo-delivery.example.com/mutualaid",
        "description": "coverage events for dispatch",
    },
    "platforms_add_platform": {
        "code": "demo-delivery",
        "name": "Demo Delivery",
        "work_types": ["food_delivery", "instant_delivery"],
        "verify_url": "https://api.demo-delivery.example.com/verify",
        "bulk_verify_url": "https://api.demo-delivery.example.com/verify/bulk",
        "credential": "the-platform-issued-token",
    },
    "platforms_update_platform": {"enabled": False},
    "payments_refund_notification": {
        "event_id": "evt-20261124-000007",
        "refund_id": _REFUND,
        "status": "succeeded",
        "amount_fen": 7200,
        "occurred_at": "2026-11-24T11:00:00+08:00",
    },
}

CSV_EXAMPLES: dict[str, str] = {
    "enrolment-batches_submit": (
        "ref,id_number,name,phone,platform_code,platform_worker_id,work_type,union_member_number\n"
        "row-1,620102199005201237,马小龙,13761234567,demo-delivery,rider-001,food_delivery,XH-000123\n"
    ),
    "reconciliation_submit": (
        "kind,gateway_ref,our_ref,amount_fen,occurred_at,fee_fen\n"
        f"payment,GW20261123000001,{_ORDER},7200,2026-11-23T10:05:00+08:00,43\n"
        f"transfer,GW20261123000002,{_PAYOUT},50000,2026-11-23T15:30:00+08:00,0\n"
    ),
}


def add_request_examples(spec: dict[str, Any]) -> None:
    """Put each operation's example on its request body's media types, in place."""
    for path_item in spec.get("paths", {}).values():
        for operation in path_item.values():
            content = operation.get("requestBody", {}).get("content", {})
            examples = {
                "application/json": JSON_EXAMPLES.get(operation.get("operationId", "")),
                "text/csv": CSV_EXAMPLES.get(operation.get("operationId", "")),
            }
            for media_type, body in content.items():
                if examples.get(media_type) is not None:
                    body["example"] = examples[media_type]
