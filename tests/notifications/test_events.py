"""Where each message is written: in the transaction that records its event, over the service's
own HTTP API (and its periodic tasks) on both databases. Each event makes one message for the
member, whatever is repeated; what a message says is its template's (test_templates.py)."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import select

from app.core.policy import Role
from app.coverage.endings import sweep_ended_periods
from app.coverage.renewals import announce_open_renewals
from app.jobs.models import Job
from app.notifications.models import Notification
from app.notifications.outbox import SEND_JOB
from app.notifications.templates import short_ref
from app.payments.models import Refund
from tests.support.claims import ACCOUNT, claim, documents, filed, notify_payout, set_account
from tests.support.enrolment import SLOW, application, apply
from tests.support.payments import enrol_and_order, notification, notify, notify_refund
from tests.support.service import bearer
from tests.support.webhooks import seeded


async def told(db, member_id) -> list[tuple[str, str]]:
    """The member's messages in the outbox, oldest first: (kind, text)."""
    async with db.reader() as session:
        rows = await session.execute(
            select(Notification.kind, Notification.text)
            .where(Notification.member_id == uuid.UUID(str(member_id)))
            .order_by(Notification.created_at)
        )
        return [tuple(row) for row in rows]


async def test_an_application_taken_and_paid_tells_when_cover_starts(http, citizen, db):
    enrolment, order = await enrol_and_order(http, citizen)
    paid = notification(order)
    assert (await notify(http, paid)).status_code == 200
    assert (await notify(http, paid)).status_code == 200  # the gateway repeats itself

    member = enrolment["member_id"]
    assert await told(db, member) == [
        (
            "application_accepted",
            f"【职工互助保障】您的参保申请（编号{short_ref_of(enrolment['id'])}）已通过审核，"
            "请在随申办完成缴费，保障自缴费次日起生效。",
        ),
        (
            "cover_started",
            "【职工互助保障】保费已到账，您的互助保障自2026年11月25日起生效，至2027年11月24日止。",
        ),
    ]
    async with db.reader() as session:
        jobs = (await session.scalars(select(Job).where(Job.kind == SEND_JOB))).all()
    assert len(jobs) == 2


async def test_an_application_for_an_examiner_says_so_and_then_its_refusal(
    http, citizen, examiner, db
):
    body = application(SLOW, "rider-slow", platform_code="slow-delivery")
    pending = (await apply(http, citizen, body)).json()
    assert pending["status"] == "pending_review"
    refused = await http.post(
        f"/v1/enrolments/{pending['id']}/review",
        json={"decision": "reject", "note": "no proof of platform work"},
        headers=examiner,
    )
    assert refused.status_code == 200, refused.text

    assert [kind for kind, _ in await told(db, pending["member_id"])] == [
        "application_pending_review",
        "application_refused",
    ]


async def test_claims_tell_they_were_received_what_is_missing_and_the_decision(
    http, citizen, examiner, db, runtime
):
    rider = (await seeded(db, runtime, date(2026, 1, 1))).member_id
    disability = claim(
        rider,
        "accidental_disability",
        "accident",
        date(2026, 6, 1),
        "fall",
        assessed_on=date(2026, 9, 1),
        injuries=[{"grade": 7}],
    )
    received = await filed(http, citizen, disability)
    refused = await http.post(
        f"/v1/claims/{received['id']}/review",
        json={"decision": "reject", "reason": "不符合伤残鉴定标准"},
        headers=examiner,
    )
    assert refused.status_code == 200, refused.text
    stay = claim(
        rider, "hospital_allowance", "accident", date(2026, 7, 1), "slip",
        admitted_on=date(2026, 7, 1), discharged_on=date(2026, 7, 4),
    )  # fmt: skip
    waiting = await filed(http, citizen, stay | {"documents": documents("id_proof")})
    assert waiting["status"] == "pending_documents"

    messages = await told(db, rider)
    assert [kind for kind, _ in messages] == [
        "claim_received",
        "claim_refused",
        "claim_documents_needed",
    ]
    assert messages[1][1] == (
        f"【职工互助保障】您的理赔申请（编号{short_ref_of(received['id'])}）未获给付，"
        "详情请在随申办查看。"
    )
    assert "尚缺材料：出院小结、医疗费用票据。" in messages[2][1]


async def test_payouts_tell_paid_or_failed_once_per_transfer(http, citizen, api_key, db, runtime):
    finance = bearer(await api_key(Role.FINANCE))
    rider = (await seeded(db, runtime, date(2026, 1, 1))).member_id
    await set_account(http, citizen, rider, ACCOUNT)
    decided = await filed(
        http, citizen, claim(rider, "accident_condolence", "accident", date(2026, 4, 1), "a")
    )
    payout = decided["payout"]
    failed = paid_event(payout, 1, "failed", reason="account_closed")
    assert (await notify_payout(http, failed)).json()["outcome"] == "failed_recorded"
    reissued = await http.post(f"/v1/payouts/{payout['id']}/reissue", json={}, headers=finance)
    assert reissued.status_code == 200, reissued.text
    assert (await notify_payout(http, paid_event(payout, 2))).json()["outcome"] == "paid"
    assert (await notify_payout(http, paid_event(payout, 2))).json()["outcome"] == "duplicate"

    ref = short_ref_of(decided["id"])
    assert await told(db, rider) == [
        (
            "claim_approved",
            f"【职工互助保障】您的理赔申请（编号{ref}）已审核通过，给付金额500.00元，支付后另行告知。",
        ),
        (
            "payout_failed",
            f"【职工互助保障】理赔申请（编号{ref}）的给付款未能到账，请在随申办核对收款账户。",
        ),
        (
            "payout_paid",
            f"【职工互助保障】理赔申请（编号{ref}）的给付款500.00元已于2026年11月23日支付，"
            "请注意查收。",
        ),
    ]


async def test_a_refund_paid_tells_the_member_who_paid(http, citizen, db):
    enrolment, order = await enrol_and_order(http, citizen)
    assert (await notify(http, notification(order))).status_code == 200
    twice = await notify(http, notification(order))  # a second payment of the same order
    assert twice.json()["outcome"] == "already_paid", twice.text  # and refunded
    async with db.reader() as session:
        [refund] = (await session.scalars(select(Refund))).all()
    settled = {
        "event_id": "ref-1",
        "refund_id": str(refund.id),
        "status": "succeeded",
        "amount_fen": refund.amount_fen,
        "occurred_at": "2026-11-24T04:00:00+00:00",
    }
    assert (await notify_refund(http, settled)).status_code == 200

    assert [kind for kind, _ in await told(db, enrolment["member_id"])] == [
        "application_accepted",
        "cover_started",
        "refund_paid",
    ]


async def test_renewal_open_and_cover_ended_are_told_once_per_period(app, db, runtime):
    renewing = await seeded(db, runtime, date(2025, 12, 10))  # ends 9 December 2026
    ended = await seeded(db, runtime, date(2025, 11, 1))  # ended 31 October 2026

    for _ in range(2):
        await announce_open_renewals(runtime)
        await sweep_ended_periods(runtime)

    assert await told(db, renewing.member_id) == [
        (
            "renewal_open",
            "【职工互助保障】您的互助保障将于2026年12月9日到期，现已可以续保，请在随申办办理。",
        )
    ]
    assert await told(db, ended.member_id) == [
        (
            "cover_ended",
            "【职工互助保障】您的互助保障已于2026年10月31日到期。如需继续参加，请在随申办重新申请。",
        )
    ]


def short_ref_of(record_id: str) -> str:
    return short_ref(uuid.UUID(record_id))


def paid_event(payout: dict, n: int, status: str = "succeeded", **changes) -> dict:
    return {
        "event_id": f"gw-{payout['id']}-{n}",
        "payout_id": payout["id"],
        "status": status,
        "amount_fen": payout["amount_fen"],
        "occurred_at": "2026-11-23T03:00:00+00:00",
        "channel": "bank",
    } | changes
