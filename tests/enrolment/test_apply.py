"""Individual enrolment over HTTP, on both databases, with the platform answering for real.

The service's clock is fixed at 23 November 2026, 10:00 in Shanghai.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select, text

from app.audit.models import AuditEvent
from app.core.clock import utc_now
from app.core.policy import Role
from tests.support.clients import assert_problem
from tests.support.enrolment import (
    GANSU,
    IDLE,
    SLOW,
    TURNS_60_TODAY,
    TURNS_60_TOMORROW,
    application,
    apply,
)
from tests.support.service import bearer


async def test_a_gansu_born_rider_delivering_food_in_shanghai_is_accepted(http, citizen, db):
    response = await apply(http, citizen, application())

    assert response.status_code == 201, response.text
    enrolment = response.json()
    assert enrolment["status"] == "awaiting_payment"
    assert enrolment["applied_on"] == "2026-11-23"
    assert enrolment["member"]["id_number_masked"] == GANSU[:6] + "********" + GANSU[-4:]
    assert enrolment["member"]["phone_masked"] == "138****5678"
    assert GANSU not in response.text
    assert response.headers["location"] == f"/v1/enrolments/{enrolment['id']}"
    async with db.reader() as session:
        actions = (
            await session.execute(
                select(AuditEvent.entity, AuditEvent.action, AuditEvent.to_status).order_by(
                    AuditEvent.created_at
                )
            )
        ).all()
    assert ("enrolment", "created", "awaiting_payment") in actions
    assert ("member", "created", None) in actions


async def test_the_day_before_the_60th_birthday_accepted_the_birthday_refused(http, citizen):
    eve = await apply(http, citizen, application(TURNS_60_TOMORROW, "rider-59"))
    birthday = await apply(http, citizen, application(TURNS_60_TODAY, "rider-60"))

    assert eve.status_code == 201, eve.text
    body = assert_problem(birthday, 422, "age_limit")
    assert body["errors"][0]["field"] == "id_number"


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"work_city": "beijing"}, "work_city_not_covered"),
        ({"platform_code": "no-such-platform"}, "platform_unknown"),
        ({"work_type": "tutoring"}, "work_type_not_covered"),
        ({"id_number": GANSU[:17] + ("0" if GANSU[17] != "0" else "1")}, "invalid_id_number"),
        ({"id_number": "620102900520123"}, "legacy_id_number"),
        ({"consent": {"sensitive_personal_data": False}}, "consent_required"),
        ({"plan_code": "no-such-plan"}, "plan_unknown"),
    ],
)
async def test_refusals_store_nothing(http, citizen, db, changes, code):
    response = await apply(http, citizen, application(**changes))

    assert_problem(response, 422, code)
    async with db.reader() as session:
        assert (await session.scalar(text("SELECT count(*) FROM members"))) == 0
        assert (await session.scalar(text("SELECT count(*) FROM enrolments"))) == 0


async def test_no_orders_in_seven_days_is_not_verified(http, citizen):
    response = await apply(http, citizen, application(IDLE, "rider-idle"))

    body = assert_problem(response, 422, "platform_work_not_verified")
    assert "7 days" in body["detail"]


async def test_a_platform_that_times_out_gives_pending_review(http, citizen):
    response = await apply(
        http, citizen, application(SLOW, "rider-slow", platform_code="slow-delivery")
    )

    assert response.status_code == 201, response.text
    assert response.json()["status"] == "pending_review"
    [_, platform_check] = response.json()["checks"]
    assert platform_check == {
        "code": "platform_work",
        "passed": False,
        "detail": "platform could not verify: timed out",
    }


async def test_a_second_application_is_409_already_enrolled(http, citizen):
    first = await apply(http, citizen, application(), key="one")
    second = await apply(http, citizen, application(), key="two")

    assert first.status_code == 201
    assert_problem(second, 409, "already_enrolled")


async def test_the_same_key_replays_the_application(http, citizen, db):
    first = await apply(http, citizen, application(), key="same")
    again = await apply(http, citizen, application(), key="same")

    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    async with db.reader() as session:
        assert (await session.scalar(text("SELECT count(*) FROM enrolments"))) == 1


async def test_examiner_approves_what_the_platform_could_not_verify(http, citizen, api_key):
    examiner = bearer(await api_key(Role.EXAMINER))
    pending = (
        await apply(http, citizen, application(SLOW, "rider-slow", platform_code="slow-delivery"))
    ).json()

    by_citizen = await http.post(
        f"/v1/enrolments/{pending['id']}/review",
        json={"decision": "approve", "note": "orders seen"},
        headers=citizen,
    )
    approved = await http.post(
        f"/v1/enrolments/{pending['id']}/review",
        json={"decision": "approve", "note": "orders screenshot ok"},
        headers=examiner,
    )
    again = await http.post(
        f"/v1/enrolments/{pending['id']}/review",
        json={"decision": "reject", "note": "changed my mind"},
        headers=examiner,
    )
    seen = await http.get(f"/v1/enrolments/{pending['id']}", headers=examiner)

    assert_problem(by_citizen, 403, "forbidden")
    assert approved.status_code == 200
    assert approved.json()["status"] == "awaiting_payment"
    assert_problem(again, 409, "enrolment_not_pending_review")
    assert seen.json()["review_note"] == "orders screenshot ok"


async def test_another_citizen_app_cannot_read_the_application(http, citizen, api_key):
    enrolment = (await apply(http, citizen, application())).json()
    other = bearer(await api_key(Role.CITIZEN_APP, name="another-app"))

    mine = await http.get(f"/v1/enrolments/{enrolment['id']}", headers=citizen)
    theirs = await http.get(f"/v1/enrolments/{enrolment['id']}", headers=other)

    assert mine.status_code == 200
    assert_problem(theirs, 404, "enrolment_not_found")


async def test_identity_is_encrypted_in_the_raw_database(http, citizen, db):
    assert (await apply(http, citizen, application())).status_code == 201

    async with db.reader() as session:
        rows = (await session.execute(text("SELECT * FROM members"))).all()
        dumped = (
            repr(rows)
            + repr((await session.execute(text("SELECT * FROM enrolments"))).all())
            + repr((await session.execute(text("SELECT * FROM audit_events"))).all())
        )
    assert len(rows) == 1
    stored_bytes = [bytes(v) for v in rows[0] if isinstance(v, bytes | memoryview)]
    assert len(stored_bytes) == 3  # the three ciphertexts
    for secret in (GANSU, "13812345678", "马小龙"):
        assert secret not in dumped
        assert not any(secret.encode() in blob for blob in stored_bytes)


async def test_examiners_list_the_pending_queue(http, citizen, api_key):
    examiner = bearer(await api_key(Role.EXAMINER))
    await apply(http, citizen, application())  # verified: not in the queue
    pending = (
        await apply(http, citizen, application(SLOW, "rider-slow", platform_code="slow-delivery"))
    ).json()

    queue = await http.get("/v1/enrolments", headers=examiner)
    by_citizen = await http.get("/v1/enrolments", headers=citizen)

    assert [e["id"] for e in queue.json()] == [pending["id"]]
    assert_problem(by_citizen, 403, "forbidden")


async def test_the_queue_pages_without_skipping(http, citizen, api_key, db):
    from datetime import UTC, datetime

    from sqlalchemy import update

    from app.enrolment.models import Enrolment

    examiner = bearer(await api_key(Role.EXAMINER))
    for n, (id_no, worker_id) in enumerate([(SLOW, "rider-slow"), (GANSU, "rider-slow")]):
        await apply(
            http, citizen, application(id_no, worker_id, platform_code="slow-delivery"), key=f"q{n}"
        )
    async with db.writer() as session:  # the same timestamp for both
        await session.execute(
            update(Enrolment).values(created_at=datetime(2026, 11, 23, 2, 0, tzinfo=UTC))
        )
        await session.commit()

    first = (await http.get("/v1/enrolments?limit=1", headers=examiner)).json()
    last = first[-1]
    second = (
        await http.get(
            "/v1/enrolments",
            params={"limit": 1, "after_created_at": last["created_at"], "after_id": last["id"]},
            headers=examiner,
        )
    ).json()

    assert len(first) == len(second) == 1
    assert first[0]["id"] != second[0]["id"]


async def test_the_review_queue_is_in_filing_order_though_the_rules_clock_is_fixed(
    http, citizen, api_key
):
    """A record's time is the wall clock's: with the rules' clock fixed (demos, tests) two
    applications still queue for the examiners in the order they came."""
    examiner = bearer(await api_key(Role.EXAMINER))
    started = utc_now()
    filed = []
    for n, id_no in enumerate([SLOW, GANSU]):
        response = await apply(
            http, citizen, application(id_no, "rider-slow", platform_code="slow-delivery"), f"o{n}"
        )
        assert response.json()["status"] == "pending_review", response.text
        filed.append(response.json())

    queued = (await http.get("/v1/enrolments", headers=examiner)).json()

    assert [e["id"] for e in queued] == [e["id"] for e in filed]
    assert all(datetime.fromisoformat(e["created_at"]) >= started for e in filed)
