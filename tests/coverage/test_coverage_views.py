"""Member look-up and coverage views, and a renewal that continues cover without a gap."""

from __future__ import annotations

from datetime import datetime

from app.core.clock import SHANGHAI
from app.core.policy import Role
from tests.support.clients import assert_problem
from tests.support.enrolment import (
    GANSU,
    application,
    apply,
)
from tests.support.payments import enrol_and_order, notification, notify
from tests.support.service import bearer

NAME = application()["name"]


async def covered_member(http, citizen) -> str:
    enrolment, order = await enrol_and_order(http, citizen)
    # Paid 23 Nov 2026 at 11:00 in Shanghai: cover 24 Nov 2026 .. 23 Nov 2027.
    await notify(http, notification(order, paid_at="2026-11-23T03:00:00+00:00"))
    return enrolment["member_id"]


async def test_lookup_by_id_number_shows_masked_identity_and_the_period(http, citizen):
    member_id = await covered_member(http, citizen)

    found = await http.post(
        "/v1/members/lookup", json={"id_number": GANSU.lower(), "name": NAME}, headers=citizen
    )

    assert found.status_code == 200, found.text
    body = found.json()
    assert body["member_id"] == member_id
    assert body["member"]["id_number_masked"].endswith(GANSU[-4:])
    assert GANSU not in found.text
    assert body["covered_today"] is False  # today is 23 Nov; cover starts on the 24th
    period = body["current_period"]
    assert (period["starts_on"], period["ends_on"], period["status"]) == (
        "2026-11-24",
        "2027-11-23",
        "upcoming",
    )
    assert period["ceiling"] == {
        "used_fen": 0,
        "limit_fen": 72_000_000,
        "remaining_fen": 72_000_000,
    }
    benefits = {b["benefit"]: b for b in period["benefits"]}
    assert benefits["accident_condolence"] == {
        "benefit": "accident_condolence",
        "used_fen": 0,
        "limit_fen": 600_000,
        "remaining_fen": 600_000,
        "limit_per": "period",
    }
    assert benefits["accidental_disability"]["limit_per"] == "accident"
    assert benefits["hospital_allowance"]["limit_fen"] == 1_800_000


async def test_who_may_look(http, citizen, api_key):
    member_id = await covered_member(http, citizen)
    examiner = bearer(await api_key(Role.EXAMINER))
    union = bearer(await api_key(Role.UNION, "SH-PUDONG"))
    platform = bearer(await api_key(Role.PLATFORM, "demo-delivery"))

    assert (
        await http.get(f"/v1/members/{member_id}/coverage", headers=examiner)
    ).status_code == 200
    # The member joined in 黄浦区 (tests/support/enrolment.py): not this union's member.
    assert_problem(
        await http.get(f"/v1/members/{member_id}/coverage", headers=union), 404, "member_not_found"
    )
    assert_problem(
        await http.post(
            "/v1/members/lookup", json={"id_number": GANSU, "name": NAME}, headers=union
        ),
        404,
        "member_not_found",
    )
    assert_problem(
        await http.get(f"/v1/members/{member_id}/coverage", headers=platform), 403, "forbidden"
    )
    assert_problem(
        await http.post(
            "/v1/members/lookup",
            json={"id_number": "110105194912310021", "name": NAME},
            headers=examiner,
        ),
        404,
        "member_not_found",
    )


def unanswered(response) -> tuple[int, str, dict]:
    """What a caller learns from a refused look-up: status, media type and the body (less the
    request's own id)."""
    body = {k: v for k, v in response.json().items() if k != "request_id"}
    return response.status_code, response.headers["content-type"], body


async def test_a_right_id_number_with_a_wrong_name_answers_like_an_unknown_person(
    http, citizen, examiner, runtime
):
    await covered_member(http, citizen)
    decrypted = []
    decrypt = runtime.cipher.decrypt

    def counting(blob: bytes, *, context: str) -> str:
        decrypted.append(context)
        return decrypt(blob, context=context)

    runtime.cipher.decrypt = counting
    try:
        wrong_name = await http.post(
            "/v1/members/lookup", json={"id_number": GANSU, "name": "马大龙"}, headers=examiner
        )
        unknown = await http.post(
            "/v1/members/lookup",
            json={"id_number": "110105194912310021", "name": NAME},
            headers=examiner,
        )
    finally:
        del runtime.cipher.decrypt
    # Spaces around the name do not make it another name.
    spaced = await http.post(
        "/v1/members/lookup", json={"id_number": GANSU, "name": f" {NAME} "}, headers=examiner
    )

    assert_problem(wrong_name, 404, "member_not_found")
    assert unanswered(wrong_name) == unanswered(unknown)
    # Both decrypt one name (a decoy's for nobody): no branch that only a known person takes.
    assert decrypted == ["member.name", "member.name"]
    assert spaced.status_code == 200, spaced.text


async def test_a_look_up_needs_the_name(http, citizen, examiner):
    await covered_member(http, citizen)

    response = await http.post("/v1/members/lookup", json={"id_number": GANSU}, headers=examiner)

    problem = assert_problem(response, 422, "validation_error")
    assert [(e["code"], e["field"]) for e in problem["errors"]] == [("required", "name")]


async def test_renewal_in_the_window_continues_without_a_gap(http, citizen, client_at):
    member_id = await covered_member(http, citizen)
    # Thirteen days before the period ends: the renewal window (30 days) is open.
    async with client_at(datetime(2027, 11, 10, 9, 0, tzinfo=SHANGHAI)) as later_http:
        enrolment, order = await enrol_and_order(later_http, citizen)
        paid = await notify(later_http, notification(order, paid_at="2027-11-10T02:00:00+00:00"))
        view = await later_http.get(f"/v1/members/{member_id}/coverage", headers=citizen)

    assert enrolment["member_id"] == member_id
    assert paid.json()["coverage"] == {
        "starts_on": "2027-11-24",
        "ends_on": "2028-11-23",
        "continues_previous": True,
    }
    assert [(p["starts_on"], p["status"]) for p in view.json()["periods"]] == [
        ("2026-11-24", "active"),
        ("2027-11-24", "upcoming"),
    ]
    assert view.json()["covered_today"] is True


async def test_applying_again_before_the_window_is_409(http, citizen):
    await covered_member(http, citizen)

    again = await apply(http, citizen, application(), key="too-early")

    assert_problem(again, 409, "already_enrolled")
