"""Premiums the service cannot keep are refunded: owed with their reason in the transaction that
decides it, never more than the order received, settled by the gateway's signed notification,
and every step balanced in the ledger. Both databases; the clock at 23 November 2026."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import select

from app.core.clock import SHANGHAI
from app.core.policy import Role
from app.coverage.models import CoveragePeriodRecord
from app.ledger.models import LedgerEntry
from app.ledger.service import unbalanced_entries
from app.members.models import Member
from app.payments import refunds
from app.payments.models import PaymentOrder, Refund
from tests.support.enrolment import TURNS_60_TOMORROW, application
from tests.support.payments import enrol_and_order, notification, notify, notify_refund
from tests.support.service import bearer

WHOLE_RANGE = "from=2026-01-01&to=2030-12-31"


async def stored_refunds(db) -> list[Refund]:
    async with db.reader() as session:
        return list((await session.scalars(select(Refund).order_by(Refund.created_at))).all())


async def movements(db) -> list[str]:
    async with db.reader() as session:
        rows = await session.scalars(select(LedgerEntry.movement).order_by(LedgerEntry.created_at))
        return list(rows.all())


async def test_a_duplicate_payment_is_refunded_and_the_books_balance(http, citizen, db, api_key):
    finance = bearer(await api_key(Role.FINANCE))
    _, order = await enrol_and_order(http, citizen)
    assert (await notify(http, notification(order))).json()["outcome"] == "activated"

    again = await notify(http, notification(order))

    assert again.json()["outcome"] == "already_paid"
    [refund] = await stored_refunds(db)
    assert (refund.amount_fen, refund.reason, refund.status) == (
        7200,
        "duplicate_payment",
        "pending",
    )
    listed = (await http.get("/v1/refunds?status=pending", headers=finance)).json()
    assert [r["id"] for r in listed["items"]] == [str(refund.id)]
    event = {
        "event_id": "refund-evt-1",
        "refund_id": str(refund.id),
        "status": "succeeded",
        "amount_fen": 7200,
        "occurred_at": "2026-11-24T02:00:00+00:00",
    }
    wrong = await notify_refund(http, event | {"event_id": "refund-evt-0", "amount_fen": 7000})
    assert (wrong.status_code, wrong.json()["code"]) == (422, "amount_mismatch")
    assert (await notify_refund(http, event)).json()["outcome"] == "refunded"
    assert (await notify_refund(http, event)).json()["outcome"] == "duplicate"

    assert await movements(db) == ["premium_received", "payment_not_owed", "refund_paid"]
    fund = (await http.get(f"/v1/reports/fund?{WHOLE_RANGE}", headers=finance)).json()["fund"]
    assert (fund["premiums_received_fen"], fund["refunds_paid_fen"]) == (14_400, 7200)
    assert (fund["fund_balance_fen"], fund["refunds_outstanding_fen"]) == (7200, 0)
    async with db.reader() as session:
        assert await unbalanced_entries(session) == 0


async def test_a_premium_paid_after_death_is_refunded(http, citizen, db):
    enrolment, order = await enrol_and_order(http, citizen)
    async with db.writer() as session:
        member = await session.get(Member, uuid.UUID(enrolment["member_id"]))
        member.died_on = date(2026, 11, 20)  # through the model: sealed at rest
        await session.commit()

    paid = await notify(http, notification(order))

    assert paid.json()["outcome"] == "refund_due"
    [refund] = await stored_refunds(db)
    assert (refund.amount_fen, refund.reason) == (7200, "paid_after_death")
    assert await movements(db) == ["premium_received", "refund_due"]


async def test_sixty_on_the_first_day_of_cover_is_refunded(http, citizen, db):
    _, order = await enrol_and_order(http, citizen, application(TURNS_60_TOMORROW, "rider-59"))

    assert (await notify(http, notification(order))).json()["outcome"] == "refund_due"
    [refund] = await stored_refunds(db)
    assert (refund.amount_fen, refund.reason) == (7200, "age_limit_on_first_day")


async def test_refunds_never_add_up_to_more_than_the_order_received(http, citizen, db):
    _, order = await enrol_and_order(http, citizen)
    await notify(http, notification(order))
    await notify(http, notification(order))  # a duplicate: 7,200 owed back already

    async with db.writer() as session:
        locked = await session.get(PaymentOrder, uuid.UUID(order["id"]), with_for_update=True)
        assert locked is not None
        more = await refunds.owe(session, locked, 10_000, "operator_correction")
        none_left = await refunds.owe(session, locked, 1, "operator_correction")
        await session.commit()

    assert more is not None
    assert more.amount_fen == 7200  # cut to what is left of 14,400
    assert none_left is None
    assert sum(r.amount_fen for r in await stored_refunds(db)) == 14_400


async def test_a_failed_refund_is_retried_as_a_new_refund(http, citizen, db, api_key):
    finance = bearer(await api_key(Role.FINANCE))
    _, order = await enrol_and_order(http, citizen)
    await notify(http, notification(order))
    await notify(http, notification(order))
    [refund] = await stored_refunds(db)
    failed = {
        "event_id": "refund-fail-1",
        "refund_id": str(refund.id),
        "status": "failed",
        "amount_fen": 7200,
        "occurred_at": "2026-11-24T02:00:00+00:00",
        "reason": "card_closed",
    }
    assert (await notify_refund(http, failed)).json()["outcome"] == "failed_recorded"
    too_early = await http.post(f"/v1/refunds/{uuid.uuid4()}/retry", headers=finance)

    retried = await http.post(f"/v1/refunds/{refund.id}/retry", headers=finance)
    twice = await http.post(f"/v1/refunds/{refund.id}/retry", headers=finance)

    assert (too_early.status_code, too_early.json()["code"]) == (404, "refund_not_found")
    assert retried.status_code == 200, retried.text
    again = retried.json()
    assert (again["amount_fen"], again["reason"], again["status"]) == (
        7200,
        "duplicate_payment",
        "pending",
    )
    assert again["id"] != str(refund.id)
    assert (twice.status_code, twice.json()["code"]) == (409, "refund_not_retryable")
    assert [(r.status, r.amount_fen) for r in await stored_refunds(db)] == [
        ("retried", 7200),
        ("pending", 7200),
    ]
    fund = (await http.get(f"/v1/reports/fund?{WHOLE_RANGE}", headers=finance)).json()["fund"]
    assert fund["refunds_outstanding_fen"] == 7200  # owed once, not twice


async def test_an_application_paid_after_its_validity_is_refunded_not_activated(
    http, citizen, db, client_at
):
    # Applied and ordered on 23 November 2026; valid 30 days (to 23 December). The open order
    # is paid on 5 January 2027 all the same.
    _, order = await enrol_and_order(http, citizen)
    async with client_at(datetime(2027, 1, 5, 10, 0, tzinfo=SHANGHAI)) as later:
        paid = await notify(later, notification(order, paid_at="2027-01-05T09:00:00+08:00"))

    assert paid.json()["outcome"] == "refund_due"
    [refund] = await stored_refunds(db)
    assert (refund.amount_fen, refund.reason) == (7200, "paid_when_not_open")
    async with db.reader() as session:
        assert (await session.scalars(select(CoveragePeriodRecord))).all() == []


async def test_a_late_success_for_a_retried_refund_pays_nothing_twice(http, citizen, db, api_key):
    """The gateway said a refund failed, the finance office retried it as a new refund, then a
    late word says the first one succeeded after all: the new refund is what is owed, and the
    books must not count the money as paid while it is still owed."""
    finance = bearer(await api_key(Role.FINANCE))
    _, order = await enrol_and_order(http, citizen)
    await notify(http, notification(order))
    await notify(http, notification(order))
    [refund] = await stored_refunds(db)
    word = {
        "refund_id": str(refund.id),
        "amount_fen": 7200,
        "occurred_at": "2026-11-24T02:00:00+00:00",
    }
    failed = word | {"event_id": "late-1", "status": "failed", "reason": "card_closed"}
    assert (await notify_refund(http, failed)).json()["outcome"] == "failed_recorded"
    assert (await http.post(f"/v1/refunds/{refund.id}/retry", headers=finance)).status_code == 200

    late = await notify_refund(http, word | {"event_id": "late-2", "status": "succeeded"})

    assert (late.status_code, late.json()["outcome"]) == (200, "already_settled")
    assert [r.status for r in await stored_refunds(db)] == ["retried", "pending"]
    assert "refund_paid" not in await movements(db)
    fund = (await http.get(f"/v1/reports/fund?{WHOLE_RANGE}", headers=finance)).json()["fund"]
    assert (fund["refunds_paid_fen"], fund["refunds_outstanding_fen"]) == (0, 7200)
