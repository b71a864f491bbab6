"""Every read of a member's personal data is on the member's access log: which client, which
operation, when; examiners read the log, nobody else."""

from __future__ import annotations

from datetime import date

from app.core.policy import Role
from app.demo.cover import SEED_NAME, Seed, add_covered_members, synthetic_id_number
from tests.support.claims import PLAN, claim, filed, seed
from tests.support.service import bearer

NUMBER = 9_001


async def test_each_read_is_logged_with_its_client_and_operation(
    http, db, runtime, api_key, citizen, examiner
):
    seeder = await seed(db, runtime)
    async with db.writer() as session:
        [member] = await add_covered_members(
            session,
            runtime.cipher,
            Seed(PLAN, date(2026, 1, 1), seeder, "demo-delivery", "SH-PUDONG"),
            [NUMBER],
        )
        await session.commit()
    rider = member.member_id
    finance = bearer(await api_key(Role.FINANCE, None, "finance"))
    union = bearer(await api_key(Role.UNION, "SH-PUDONG", "pudong"))
    condolence = await filed(
        http, citizen, claim(rider, "accident_condolence", "accident", date(2026, 3, 1), "slip")
    )

    lookup = await http.post(
        "/v1/members/lookup",
        json={"id_number": synthetic_id_number(NUMBER), "name": SEED_NAME},
        headers=citizen,
    )
    wrong_name = await http.post(
        "/v1/members/lookup",
        json={"id_number": synthetic_id_number(NUMBER), "name": "别人"},
        headers=citizen,
    )
    reads = [
        await http.get(f"/v1/members/{rider}/coverage", headers=citizen),
        await http.get(f"/v1/claims/{condolence['id']}", headers=examiner),
        await http.get(f"/v1/claims?member_id={rider}", headers=citizen),
        await http.get(f"/v1/payouts/{condolence['payout']['id']}", headers=finance),
        await http.get("/v1/union/members", headers=union),
    ]
    log = await http.get(f"/v1/members/{rider}/access-log", headers=examiner)
    refused = await http.get(f"/v1/members/{rider}/access-log", headers=citizen)

    assert (lookup.status_code, wrong_name.status_code) == (200, 404)
    assert [r.status_code for r in reads] == [200] * 5
    assert log.status_code == 200, log.text
    shown = [(r["role"], r["operation"]) for r in log.json()["reads"]]
    assert shown == [
        ("citizen_app", "members.lookup"),  # not the refused one: nothing was shown
        ("citizen_app", "members.coverage"),
        ("examiner", "claims.read"),
        ("citizen_app", "claims.read"),
        ("finance", "payouts.read"),
        ("union", "union.members"),
    ]
    assert refused.status_code == 403


async def test_an_unknown_member_has_no_log(http, examiner):
    response = await http.get(
        "/v1/members/00000000-0000-0000-0000-000000000000/access-log", headers=examiner
    )

    assert (response.status_code, response.json()["code"]) == (404, "member_not_found")
