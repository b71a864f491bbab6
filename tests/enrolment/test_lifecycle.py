"""Races, expiry, and what an application may and may not change, on both databases."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, datetime

from sqlalchemy import select

from app.audit.models import AuditEvent
from app.core.clock import SHANGHAI
from app.core.policy import Role
from app.enrolment.models import Enrolment
from app.members.models import Member
from app.payments.models import PaymentNotification, PaymentOrder
from tests.support.clients import assert_problem
from tests.support.enrolment import (
    GANSU,
    application,
    apply,
)
from tests.support.payments import enrol_and_order, notification, notify
from tests.support.service import bearer


async def test_racing_applications_for_one_person_make_one_enrolment(http, citizen, db):
    responses = await asyncio.gather(
        *(apply(http, citizen, application(), key=f"race-{n}") for n in range(4))
    )

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 409, 409, 409], [r.text for r in responses]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"already_enrolled"}
    async with db.reader() as session:
        assert len((await session.scalars(select(Member))).all()) == 1


async def test_a_union_sees_its_own_members_only(http, citizen, api_key, db):
    # 浦东新区: a member of SH-PUDONG.
    joined = application(work_district="310115")
    member_id = (await apply(http, citizen, joined)).json()["member_id"]
    pudong = bearer(await api_key(Role.UNION, "SH-PUDONG"))
    xuhui = bearer(await api_key(Role.UNION, "SH-XUHUI"))
    who = {"id_number": GANSU, "name": joined["name"]}

    own = await http.post("/v1/members/lookup", json=who, headers=pudong)
    other = await http.post("/v1/members/lookup", json=who, headers=xuhui)
    other_view = await http.get(f"/v1/members/{member_id}/coverage", headers=xuhui)

    assert own.status_code == 200
    assert own.json()["member_id"] == member_id
    assert_problem(other, 404, "member_not_found")
    assert_problem(other_view, 404, "member_not_found")


async def test_an_unverified_application_does_not_rewrite_the_member(http, citizen, db, client_at):
    enrolment, order = await enrol_and_order(http, citizen)
    await notify(http, notification(order, paid_at="2026-11-23T03:00:00+00:00"))
    # In the renewal window, an application the platform cannot verify, with new details.
    async with client_at(datetime(2027, 11, 10, 9, 0, tzinfo=SHANGHAI)) as later_http:
        pending = await apply(
            later_http,
            citizen,
            application(
                GANSU,
                "rider-slow",
                platform_code="slow-delivery",
                phone="13999999999",
                name="李四",
            ),
        )

    assert pending.json()["status"] == "pending_review"
    async with db.reader() as session:
        member = await session.get(Member, uuid.UUID(enrolment["member_id"]))
    assert member.phone_masked == "138****5678"
    assert member.name_masked == "马**"


async def test_refused_notifications_are_recorded_and_leave_the_order_open(http, citizen, db):
    _, order = await enrol_and_order(http, citizen)

    wrong_amount = await notify(http, notification(order, amount_fen=720, event_id="e-amount"))
    backdated = await notify(
        http, notification(order, paid_at="2026-01-01T10:00:00+08:00", event_id="e-early")
    )
    future = await notify(
        http, notification(order, paid_at="2031-01-01T10:00:00+08:00", event_id="e-future")
    )

    assert_problem(wrong_amount, 422, "amount_mismatch")
    assert_problem(backdated, 422, "paid_at_out_of_range")
    assert_problem(future, 422, "paid_at_out_of_range")
    async with db.reader() as session:
        recorded = {
            n.event_id: n.outcome
            for n in (await session.scalars(select(PaymentNotification))).all()
        }
        stored_order = await session.get(PaymentOrder, uuid.UUID(order["id"]))
    assert recorded == {
        "e-amount": "amount_mismatch",
        "e-early": "paid_at_out_of_range",
        "e-future": "paid_at_out_of_range",
    }
    assert stored_order.status == "open"


async def test_a_second_real_payment_is_recorded_for_a_refund(http, citizen, db):
    _, order = await enrol_and_order(http, citizen)
    await notify(http, notification(order, channel="alipay"))

    second = await notify(http, notification(order, channel="wechat"))

    assert second.json()["outcome"] == "already_paid"
    async with db.reader() as session:
        actions = (await session.scalars(select(AuditEvent.action))).all()
    assert "duplicate_payment_refund_due" in actions


async def test_the_gateway_may_add_fields(http, citizen):
    _, order = await enrol_and_order(http, citizen)

    response = await notify(http, notification(order) | {"trade_no": "2026112322001"})

    assert response.json()["outcome"] == "activated"


async def test_an_unpaid_application_expires(http, citizen, client_at):
    first = (await apply(http, citizen, application())).json()
    async with client_at(datetime(2026, 12, 24, 9, 0, tzinfo=SHANGHAI)) as later_http:  # +31 days
        late_order = await later_http.post(
            f"/v1/enrolments/{first['id']}/payment-orders",
            headers=citizen | {"Idempotency-Key": "late"},
        )
        again = await apply(later_http, citizen, application(), key="after-expiry")
        old = await later_http.get(f"/v1/enrolments/{first['id']}", headers=citizen)

    assert_problem(late_order, 409, "enrolment_expired")
    assert again.status_code == 201, again.text
    assert again.json()["member_id"] == first["member_id"]
    assert old.json()["status"] == "expired"


async def test_a_member_whose_death_is_recorded_cannot_apply_again(http, citizen, db, client_at):
    enrolment, order = await enrol_and_order(http, citizen)
    await notify(http, notification(order, paid_at="2026-11-23T03:00:00+00:00"))
    async with db.writer() as session:
        member = await session.get(Member, uuid.UUID(enrolment["member_id"]))
        member.died_on = date(2027, 3, 1)
        await session.commit()

    # In the renewal window, someone applies with the dead member's ID number.
    async with client_at(datetime(2027, 11, 10, 9, 0, tzinfo=SHANGHAI)) as later_http:
        again = await apply(later_http, citizen, application())

    assert_problem(again, 409, "member_deceased")
    async with db.reader() as session:
        statuses = (await session.scalars(select(Enrolment.status))).all()
    assert statuses == ["paid"]
