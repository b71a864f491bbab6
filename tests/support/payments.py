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


async def add_order(db, cipher, member_id, client_id, status: str = "awaiting_payment") -> dict:
    """An application of an existing member, written straight to the tables, and its open
    payment order (as `{"id", "amount_fen"}`): for tests that start where payment starts."""
    from datetime import date

    from app.core.clock import utc_now
    from app.enrolment.writer import NewApplication, write
    from app.members import service as members
    from app.payments.models import PaymentOrder
    from app.plans import DEFAULT_PLAN_CODE, in_force

    plan = in_force(DEFAULT_PLAN_CODE, date(2026, 1, 1))
    async with db.writer() as session:
        application = NewApplication(
            id=uuid.uuid4(),
            member_id=member_id,
            plan_code=plan.code,
            plan_version=plan.version,
            channel="individual",
            status=status,
            platform_code="demo-delivery",
            platform_worker_id=f"w-{uuid.uuid4().hex[:8]}",
            work_type="food_delivery",
            work_city="上海",
            applied_on=date(2026, 11, 23),
            name_cipher=cipher.encrypt("王五", context=members.NAME),
            phone_cipher=cipher.encrypt("13900001111", context=members.PHONE),
            created_by_client_id=client_id,
            created_at=utc_now(),
        )
        await write(session, [], [application])
        order = PaymentOrder(
            id=uuid.uuid4(),
            enrolment_id=application.id,
            amount_fen=plan.premium_fen.value,
            status="open",
        )
        session.add(order)
        await session.commit()
    return {"id": str(order.id), "amount_fen": order.amount_fen}
