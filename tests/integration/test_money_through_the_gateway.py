"""The money side end to end, on both databases: real `mutualaid serve`, `mutualaid worker` and
`mutualaid gateway-sim` processes. The worker instructs the simulated gateway; the gateway calls
the service back with signed notifications; the test steers the gateway's outcomes.

- a claim approved -> payout instructed -> paid;
- one failed -> reissued to a corrected account -> paid;
- one paid -> returned by the bank -> reissued -> paid;
- one over the plan's four-eyes threshold waits: the deciding examiner's approval is refused,
  a finance client's accepted, and then it is paid;
- a premium paid after death and a duplicate payment are refunded through the gateway;
and the ledger balances, with the fund's money what came in less what went out.
"""

from __future__ import annotations

import time
import uuid
from contextlib import asynccontextmanager
from datetime import date

import httpx
from sqlalchemy import select

from app.core.policy import Role
from app.core.signing import signature_header
from app.ledger.service import unbalanced_entries
from app.members.models import Member
from app.payments.models import Refund
from app.payouts.models import Payout
from tests.support.claims import NOW, claim, covered_members, seed
from tests.support.payments import add_order
from tests.support.processes import (
    environment,
    free_port,
    running,
    start,
    wait_for,
    wait_until_serving,
)
from tests.support.service import TEST_PAYMENT_SECRET, bearer

PAID_AT = "2026-11-23T03:00:00+00:00"  # within the service's day (its clock is at NOW)


@asynccontextmanager
async def money_world(settings):
    """The three processes; yields (service URL, gateway URL)."""
    service_port, gateway_port = free_port(), free_port()
    service, gateway = f"http://127.0.0.1:{service_port}", f"http://127.0.0.1:{gateway_port}"
    env = environment(settings) | {
        "MUTUALAID_CLOCK": NOW.isoformat(),
        "MUTUALAID_GATEWAY_URL": gateway,
        "PAYMENT_NOTIFICATION_SECRETS": TEST_PAYMENT_SECRET,
        "MUTUALAID_IN_PROCESS_WORKER": "false",
    }
    simulator = start(
        [
            "gateway-sim",
            "--port",
            str(gateway_port),
            "--notify-url",
            service,
            "--secret",
            TEST_PAYMENT_SECRET,
        ],
        env,
    )
    server = start(["serve", "--port", str(service_port)], env)
    worker = start(["worker", "--poll-seconds", "0.05"], env)
    with running(simulator, server, worker):
        await wait_until_serving(gateway)
        await wait_until_serving(service)
        yield service, gateway


class Money:
    def __init__(self, http: httpx.AsyncClient, gateway: str, keys: dict, db) -> None:
        self.http, self.gateway, self.keys, self.db = http, gateway, keys, db

    async def file(self, member_id, account: dict | None = None, **claim_changes) -> dict:
        body = claim(member_id, "accident_condolence", "accident", date(2026, 4, 1), "e2e")
        if account:
            body["payee_account"] = account
        body |= claim_changes
        response = await self.http.post(
            "/v1/claims",
            json=body,
            headers=self.keys["citizen"] | {"Idempotency-Key": str(uuid.uuid4())},
        )
        assert response.status_code == 201, response.text
        return response.json()

    async def payout(self, payout_id: str) -> dict:
        response = await self.http.get(f"/v1/payouts/{payout_id}", headers=self.keys["finance"])
        assert response.status_code == 200, response.text
        return response.json()

    async def reaches(self, payout_id: str, status: str) -> dict:
        async def there():
            shown = await self.payout(payout_id)
            return shown if shown["status"] == status else None

        return await wait_for(there, within=30, step=0.05)

    async def rule(self, **rule) -> None:
        answer = await self.http.post(f"{self.gateway}/_sim/rules", json=rule)
        assert answer.status_code == 201, answer.text

    async def instruction_of(self, payout_id: str) -> str:
        async with self.db.reader() as session:
            payout = await session.get(Payout, uuid.UUID(payout_id), populate_existing=True)
            return str(payout.current_instruction_id)


def account(number: str) -> dict:
    return {"kind": "bank", "account_no": number, "holder_name": "张三", "bank_name": "工商银行"}


async def test_payouts_and_refunds_go_through_the_gateway(settings, db, runtime, api_key):
    seeder = await seed(db, runtime)
    members = covered_members(db, runtime, seeder)
    keys = {
        "citizen": bearer(await api_key(Role.CITIZEN_APP)),
        "finance": bearer(await api_key(Role.FINANCE)),
        "examiner": bearer(await api_key(Role.EXAMINER)),
    }
    async with (
        money_world(settings) as (service, gateway),
        httpx.AsyncClient(base_url=service, timeout=30) as http,
    ):
        money = Money(http, gateway, keys, db)
        await _paid_at_once(money, members)
        await _failed_then_reissued(money, members)
        await _returned_then_reissued(money, members)
        await _second_approval(money, members)
        await _refunds(money, members, runtime, seeder)
        reconciled = await _reconcile_the_gateways_bills(money)
        instructions = (await http.get(f"{gateway}/_sim/instructions")).json()
        fund = (
            await http.get(
                "/v1/reports/fund?from=2026-01-01&to=2030-12-31", headers=keys["finance"]
            )
        ).json()["fund"]

    # The gateway's own bill matches the service's records. The gateway keeps the service's clock,
    # so all moved on its day: 3 premiums, 6 transfer lines (one paid then returned: a negative
    # line) and 2 refunds.
    assert reconciled == {"2026-11-23": (11, 0)}
    # Every transfer and refund the gateway was asked for moved money at most once.
    assert all(i["paid"] <= 1 for i in instructions)
    assert fund["benefits_paid_fen"] == 3 * 50_000 + 60_000_000
    assert fund["benefits_outstanding_fen"] == 0
    assert fund["premiums_received_fen"] == 3 * 7200
    assert fund["refunds_paid_fen"] == 2 * 7200
    assert fund["fund_balance_fen"] == 7200 - 3 * 50_000 - 60_000_000
    async with db.reader() as session:
        assert await unbalanced_entries(session) == 0


async def _paid_at_once(money: Money, members) -> None:
    [rider] = await members()
    decided = await money.file(rider, account("6222000000000001"))
    assert decided["payout"]["status"] == "ready"
    paid = await money.reaches(decided["payout"]["id"], "paid")
    assert paid["account_masked"] == "bank ****0001 张*"


async def _failed_then_reissued(money: Money, members) -> None:
    await money.rule(
        kind="transfer", match_account_no="6222000000000002", outcome="fail", reason="closed"
    )
    [rider] = await members()
    payout_id = (await money.file(rider, account("6222000000000002")))["payout"]["id"]
    failed = await money.reaches(payout_id, "failed")
    assert failed["failure_reason"] == "closed"
    reissued = await money.http.post(
        f"/v1/payouts/{payout_id}/reissue",
        json={"payee_account": account("6222000000000003")},
        headers=money.keys["finance"],
    )
    assert reissued.status_code == 200, reissued.text
    assert (await money.reaches(payout_id, "paid"))["account_masked"] == "bank ****0003 张*"


async def _returned_then_reissued(money: Money, members) -> None:
    await money.rule(kind="transfer", match_account_no="6222000000000004", outcome="return")
    [rider] = await members()
    payout_id = (await money.file(rider, account("6222000000000004")))["payout"]["id"]
    await money.reaches(payout_id, "paid")
    transfer_id = await money.instruction_of(payout_id)
    bounced = await money.http.post(
        f"{money.gateway}/_sim/transfers/{transfer_id}/return", json={"reason": "bounced"}
    )
    assert bounced.status_code == 200, bounced.text
    returned = await money.reaches(payout_id, "returned")
    assert (returned["failure_reason"], returned["paid_at"]) == ("bounced", None)
    await money.http.post(
        f"/v1/payouts/{payout_id}/reissue",
        json={"payee_account": account("6222000000000005")},
        headers=money.keys["finance"],
    )
    await money.reaches(payout_id, "paid")


async def _second_approval(money: Money, members) -> None:
    [rider] = await members()
    filed = await money.file(
        rider,
        account("6222000000000006"),
        benefit="accidental_disability",
        facts={"assessed_on": "2026-06-01", "injuries": [{"grade": 1}]},
    )
    assert filed["status"] == "pending_review"
    decided = await money.http.post(
        f"/v1/claims/{filed['id']}/review",
        json={
            "decision": "approve",
            "facts": {"assessed_on": "2026-06-01", "injuries": [{"grade": 1}]},
        },
        headers=money.keys["examiner"],
    )
    payout_id = decided.json()["payout"]["id"]
    assert decided.json()["payout"]["status"] == "awaiting_approval"
    by_decider = await money.http.post(
        f"/v1/payouts/{payout_id}/approve", headers=money.keys["examiner"]
    )
    assert (by_decider.status_code, by_decider.json()["code"]) == (409, "same_approver")
    assert (await money.payout(payout_id))["status"] == "awaiting_approval"
    approved = await money.http.post(
        f"/v1/payouts/{payout_id}/approve", headers=money.keys["finance"]
    )
    assert approved.status_code == 200, approved.text
    await money.reaches(payout_id, "paid")


async def _refunds(money: Money, members, runtime, seeder) -> None:
    dead, alive = await members(2, starts_on=date(2025, 1, 1))
    async with runtime.db.writer() as session:
        (await session.get(Member, dead)).died_on = NOW.date()  # sealed at rest
        await session.commit()
    late = await add_order(runtime.db, runtime.cipher, dead, seeder)
    twice = await add_order(runtime.db, runtime.cipher, alive, seeder)
    for order in (late, twice, twice):
        collected = await money.http.post(
            f"{money.gateway}/_sim/payments",
            json={
                "payment_order_id": order["id"],
                "amount_fen": order["amount_fen"],
                "paid_at": PAID_AT,
            },
        )
        assert collected.status_code == 201, collected.text

    async def both_refunded():
        async with runtime.db.reader() as session:
            refunds = (await session.scalars(select(Refund))).all()
            return {(r.reason, r.status) for r in refunds}

    await wait_for(
        lambda: _equals(
            both_refunded, {("paid_after_death", "succeeded"), ("duplicate_payment", "succeeded")}
        ),
        within=30,
        step=0.05,
    )


async def _reconcile_the_gateways_bills(money: Money) -> dict[str, tuple[int, int]]:
    """Each day's bill as the gateway serves it, reconciled: (bill lines, differences) by day."""
    found = {}
    for day in ("2026-11-23",):
        signed = signature_header(TEST_PAYMENT_SECRET.encode(), int(time.time()), b"")
        bill = await money.http.get(
            f"{money.gateway}/bills/{day}.csv", headers={"X-Signature": signed}
        )
        assert bill.status_code == 200, bill.text
        sent = await money.http.post(
            f"/v1/reconciliations?date={day}",
            content=bill.content,
            headers=money.keys["finance"] | {"Content-Type": "text/csv"},
        )
        assert sent.status_code == 202, sent.text

        async def done(run_id=sent.json()["id"]):
            run = (
                await money.http.get(f"/v1/reconciliations/{run_id}", headers=money.keys["finance"])
            ).json()
            return run if run["status"] == "done" else None

        run = await wait_for(done, within=30, step=0.05)
        if run["differences"]:
            lines = await money.http.get(
                f"/v1/reconciliations/{run['id']}/lines", headers=money.keys["finance"]
            )
            print(lines.json())
        found[day] = (run["bill_lines"], run["differences"])
    return found


async def _equals(read, wanted):
    return await read() == wanted
