"""Premium payments: an application's payment order, and the payment gateway's signed
notification that it was paid (or failed)."""

from __future__ import annotations

import json
import time
import uuid

from app.core.signing import signature_header
from tests.support.enrolment import application, apply
from tests.support.service import TEST_PAYMENT_SECRET

SECRET = TEST_PAYMENT_SECRET.encode()
# 17:30 UTC on 23 November is 01:30 on 24 November in Shanghai: cover starts on the 25th.
PAID_AT = "2026-11-23T17:30:00+00:00"


async def enrol_and_order(http, citizen, body=None) -> tuple[dict, dict]:
    enrolment = (await apply(http, citizen, body or application())).json()
    order = await http.post(
        f"/v1/enrolments/{enrolment['id']}/payment-orders",
        headers=citizen | {"Idempotency-Key": f"order-{enrolment['id']}"},
    )
    assert order.status_code == 201, order.text
    return enrolment, order.json()


def notification(order: dict, **changes) -> dict:
    return {
        "event_id": f"evt-{uuid.uuid4()}",
        "payment_order_id": order["id"],
        "status": "succeeded",
        "amount_fen": order["amount_fen"],
        "paid_at": PAID_AT,
        "channel": "alipay",
    } | changes


async def notify(
    http,
    body: dict,
    *,
    secret: bytes = SECRET,
    offset: int = 0,
    signature: str | bytes | None = None,
):
    """Signed now (plus `offset` seconds) unless a ready-made header is given."""
    raw = json.dumps(body).encode()
    if signature is None:
        signature = signature_header(secret, int(time.time()) + offset, raw)
    return await http.post(
        "/v1/payment-notifications",
        content=raw,
        headers={"Content-Type": "application/json", "X-Signature": signature},
    )


async def notify_refund(http, body: dict, *, secret: bytes = SECRET):
    """The gateway's signed word on a refund."""
    raw = json.dumps(body).encode()
    return await http.post(
        "/v1/refund-notifications",
        content=raw,
        headers={
            "Content-Type": "application/json",
            "X-Signature": signature_header(secret, int(time.time()), raw),
        },
    )
