"""A union batch is no oracle of who is enrolled (issue 17, acceptance 3), on both databases.

What the service holds about a person (enrolled, dead, renewing) is answered only for a row
whose platform work is verified: a row for an enrolled or dead person with a platform account
that cannot be verified is answered exactly like a row for nobody.
"""

from __future__ import annotations

import uuid
from datetime import date

from app.members.models import Member
from tests.support.batches import RIDERS, row, submit
from tests.support.enrolment import application, apply
from tests.support.payments import enrol_and_order, notification, notify

ENROLLED, DEAD, NOBODY, ALSO_NOBODY = RIDERS[0], RIDERS[1], RIDERS[20], RIDERS[21]
# What a row's answer may not differ by: the union's own reference and the row's number.
OWN = {"ref", "row_number"}


async def one_row_batch(http, headers, batch_row: dict, key: str) -> str:
    created = await submit(http, headers, [batch_row], key=key)
    assert created.status_code == 202, created.text
    return created.json()["id"]


async def answer(http, headers, batch_id: str) -> tuple[dict, dict]:
    """The row's outcome without its own ref and number, and the batch's counters."""
    batch = (await http.get(f"/v1/enrolment-batches/{batch_id}", headers=headers)).json()
    [only] = (await http.get(f"/v1/enrolment-batches/{batch_id}/rows", headers=headers)).json()[
        "rows"
    ]
    counters = {k: batch[k] for k in ("status", "total", "accepted", "rejected", "duplicate")}
    return {k: v for k, v in only.items() if k not in OWN}, counters


async def test_an_unverifiable_row_for_an_enrolled_or_dead_person_looks_like_one_for_nobody(
    http, citizen, other_union, run_jobs, db
):
    _, order = await enrol_and_order(http, citizen, application(ENROLLED, "rider-0"))
    await notify(http, notification(order))
    dead = (await apply(http, citizen, application(DEAD, "rider-1"), key="dead")).json()
    async with db.writer() as session:
        member = await session.get(Member, uuid.UUID(dead["member_id"]))
        member.died_on = date(2026, 11, 1)  # through the model: sealed at rest
        await session.commit()
    # demo-delivery has no such accounts; slow-delivery never answers.
    unknown = [
        row("a", ENROLLED, "rider-unknown-a"),
        row("b", DEAD, "rider-unknown-b"),
        row("c", NOBODY, "rider-unknown-c"),
    ]
    unanswered = [
        row("d", ENROLLED, "rider-d", platform_code="slow-delivery"),
        row("e", NOBODY, "rider-e", platform_code="slow-delivery"),
        row("f", ALSO_NOBODY, "rider-f", platform_code="slow-delivery"),
    ]
    ids = [
        await one_row_batch(http, other_union, r, key=f"probe-{r['ref']}")
        for r in (*unknown, *unanswered)
    ]
    # The control: with the person's own, verifiable account the row is a duplicate.
    verified = await one_row_batch(http, other_union, row("g", ENROLLED, "rider-0"), key="g")
    await run_jobs()

    answers = [await answer(http, other_union, batch_id) for batch_id in ids]

    not_verified = {
        "outcome": "rejected",
        "codes": ["platform_work_not_verified"],
        "duplicate_of_row": None,
        "member_id": None,
        "enrolment_id": None,
    }
    unavailable = not_verified | {"codes": ["platform_unavailable"]}
    counters = {"status": "done", "total": 1, "accepted": 0, "rejected": 1, "duplicate": 0}
    assert answers[:3] == [(not_verified, counters)] * 3
    assert answers[3:] == [(unavailable, counters)] * 3
    control, _ = await answer(http, other_union, verified)
    assert (control["outcome"], control["codes"]) == ("duplicate", ["already_enrolled"])
    assert control["member_id"] is None  # not this union's member
