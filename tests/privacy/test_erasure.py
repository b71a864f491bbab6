"""Erasure after the retention period (180 days here): a lapsed member's identity and health
facts go, their money stays, and every fund figure is the same before and after. Members with
cover, an open claim or money owed are kept."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.core.clock import SHANGHAI
from app.core.policy import Role
from app.demo.cover import SEED_NAME, Seed, add_covered_members, synthetic_id_number
from app.members import service as members
from app.members.models import Member, PlatformWorker
from app.notifications.models import Notification
from app.payouts.models import Payout
from app.privacy.erasure import ERASED, erase_expired
from tests.support.claims import ACCOUNT, PLAN, claim, documents, filed, notify_payout, seed
from tests.support.clients import run_cli
from tests.support.service import bearer

LAPSED, CURRENT, OPEN_CLAIM, OWED = 7_001, 7_002, 7_003, 7_004
LATER = datetime(2027, 6, 1, 10, 0, tzinfo=SHANGHAI)  # the cut-off is 2026-12-03
FUND = "/v1/reports/fund?from=2024-01-01&to=2027-06-01"


def stay(member_id, ref: str) -> dict:
    return claim(
        member_id,
        "hospital_allowance",
        "illness",
        date(2024, 12, 20),
        ref,
        admitted_on=date(2024, 12, 20),
        discharged_on=date(2024, 12, 23),
    )


async def test_a_lapsed_member_is_erased_and_the_fund_is_unchanged(
    http, db, runtime, citizen, examiner, api_key, monkeypatch
):
    seeder = await seed(db, runtime)
    async with db.writer() as session:
        made = {}
        for number, starts_on in (
            (LAPSED, date(2024, 1, 1)),
            (CURRENT, date(2026, 1, 1)),
            (OPEN_CLAIM, date(2024, 1, 1)),
            (OWED, date(2024, 1, 1)),
        ):
            [member] = await add_covered_members(
                session, runtime.cipher, Seed(PLAN, starts_on, seeder, "demo-delivery"), [number]
            )
            made[number] = member.member_id
        await session.commit()
    finance = bearer(await api_key(Role.FINANCE, None, "finance"))
    paid = await filed(http, citizen, stay(made[LAPSED], "flu") | {"payee_account": ACCOUNT})
    notified = await notify_payout(
        http,
        {
            "event_id": "paid-1",
            "payout_id": paid["payout"]["id"],
            "status": "succeeded",
            "amount_fen": 30_000,
            "paid_at": "2026-11-23T03:00:00+00:00",
            "channel": "bank",
        },
    )
    assert notified.status_code == 200, notified.text
    await filed(
        http, citizen, stay(made[OPEN_CLAIM], "cough") | {"documents": documents("id_proof")}
    )
    await filed(http, citizen, stay(made[OWED], "fever"))  # no account: the payout waits

    monkeypatch.setattr(runtime.clock, "_fixed", LATER.astimezone(UTC))
    fund_before = (await http.get(FUND, headers=finance)).json()
    erased = await erase_expired(runtime)
    again = await erase_expired(runtime)
    fund_after = (await http.get(FUND, headers=finance)).json()
    lookup = await http.post(
        "/v1/members/lookup",
        json={"id_number": synthetic_id_number(LAPSED), "name": SEED_NAME},
        headers=examiner,
    )
    shown = (await http.get(f"/v1/claims/{paid['id']}", headers=examiner)).json()

    assert (erased, again) == (1, 0)
    assert fund_after == fund_before
    assert fund_before["accounts"], fund_before
    assert lookup.status_code == 404
    assert shown["facts"] == {}
    assert (shown["decision"]["lines"], shown["decision"]["reasons"]) == ([], [])
    assert (shown["decision"]["payable_fen"], shown["payout"]["status"]) == (30_000, "paid")
    async with db.reader() as session:
        rows = {
            m.id: m
            for m in (await session.scalars(select(Member).where(Member.id.in_(made.values()))))
        }
        gone = rows[made[LAPSED]]
        links = await session.scalar(
            select(func.count())
            .select_from(PlatformWorker)
            .where(PlatformWorker.member_id == made[LAPSED])
        )
        payout = await session.get(Payout, uuid.UUID(paid["payout"]["id"]))
        messages = await session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.member_id == made[LAPSED])
        )
        audited = await session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.entity_id == str(made[LAPSED]), AuditEvent.action == "erased")
        )
    for context, blob in (
        (members.ID_NUMBER, gone.id_number_cipher),
        (members.NAME, gone.name_cipher),
        (members.PHONE, gone.phone_cipher),
    ):
        assert runtime.cipher.decrypt(blob, context=context) == ""
    assert (gone.name_masked, gone.id_number_masked, gone.phone_masked) == (ERASED,) * 3
    assert gone.erased_at is not None
    assert (links, payout.account_cipher, payout.amount_fen, audited) == (0, None, 30_000, 1)
    assert messages == 0
    for kept in (CURRENT, OPEN_CLAIM, OWED):
        assert rows[made[kept]].erased_at is None
        assert rows[made[kept]].name_masked != ERASED


async def test_the_command_erases_nothing_without_a_retention_period(settings):
    unset = run_cli(settings, "privacy", "erase-expired")
    set_ = run_cli(settings, "privacy", "erase-expired", env={"MUTUALAID_RETENTION_DAYS": "100000"})

    assert (unset.returncode, "MUTUALAID_RETENTION_DAYS is not set" in unset.stderr) == (2, True)
    assert (set_.returncode, set_.stdout.strip()) == (
        0,
        "0 member(s) erased (retention 100000 days)",
    )
