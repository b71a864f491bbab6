"""A property of the whole money side: whatever happens, in whatever order (premiums, duplicate
payments, payments for closed applications, claims, transfers paid, failed, returned, reissued,
refunds made or failed), every ledger entry balances, the fund's money at the gateway is what was
received less what was refunded and paid out, and no order is refunded more than it received.

Each example drives the real service over HTTP (gateway notifications signed as the gateway
would) on the test database; the database keeps what earlier examples wrote, which the
properties must survive too.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from datetime import date

from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.clients.service import create_client
from app.core.clock import utc_now
from app.core.policy import Role
from app.demo.cover import Seed, add_covered_members
from app.ledger.postings import Account
from app.ledger.service import account_figures, unbalanced_entries
from app.payments import refunds
from app.payments.models import PaymentOrder, Refund
from app.payouts.models import Payout, PayoutStatus
from tests.support.claims import (
    DEMO_PLATFORM,
    PLAN,
    claim,
    claims_app,
    filed,
    notify_payout,
    set_account,
)
from tests.support.payments import add_order, notify, notify_refund
from tests.support.service import asgi_client, bearer

EARLIEST = utc_now().replace(year=2000)
LATEST = utc_now().replace(year=2099)
_serial = itertools.count(900_000)

premium = st.tuples(
    st.just("premium"), st.booleans(), st.sampled_from(["awaiting_payment", "expired"])
)
a_claim = st.tuples(st.just("claim"), st.booleans())
payout_word = st.tuples(
    st.just("payout"),
    st.integers(0, 30),
    st.lists(
        st.sampled_from(["succeeded", "failed", "returned", "reissue"]), min_size=1, max_size=4
    ),
)
# The finance office asks to give back an amount of its choosing: the service cuts it.
operator_refund = st.tuples(st.just("operator_refund"), st.integers(0, 30), st.integers(1, 20_000))
refund_word = st.tuples(st.just("refund"), st.integers(0, 30), st.booleans())
retry_word = st.tuples(st.just("retry"), st.integers(0, 30))
OPERATIONS = st.lists(
    st.one_of(premium, a_claim, payout_word, operator_refund, refund_word, retry_word),
    min_size=1,
    max_size=12,
)


class World:
    """What an example works on: the app, its keys, and what it has made so far."""

    def __init__(self, application, http, keys: dict[str, dict[str, str]]) -> None:
        self.app, self.http, self.keys = application, http, keys
        self.runtime = application.state.runtime
        self.payouts: list[dict] = []
        self.refunds: list[uuid.UUID] = []

    async def member(self, starts_on: date = date(2026, 1, 1)) -> uuid.UUID:
        async with self.runtime.db.writer() as session:
            [member] = await add_covered_members(
                session,
                self.runtime.cipher,
                Seed(PLAN, starts_on, self.keys["client_id"], DEMO_PLATFORM.code),
                [next(_serial)],
            )
            await session.commit()
        return member.member_id

    async def order(self, status: str) -> dict:
        """An application of a member whose cover ended last year, and its open order."""
        member_id = await self.member(date(2025, 1, 1))
        return await add_order(
            self.runtime.db, self.runtime.cipher, member_id, self.keys["client_id"], status
        )

    async def run(self, operation: tuple) -> None:
        kind, *args = operation
        await getattr(self, f"_{kind}")(*args)

    async def _premium(self, duplicate: bool, status: str) -> None:
        order = await self.order(status)
        for _ in range(2 if duplicate else 1):
            body = {
                "event_id": f"pay-{uuid.uuid4()}",
                "payment_order_id": order["id"],
                "status": "succeeded",
                "amount_fen": order["amount_fen"],
                "paid_at": "2026-11-23T03:00:00+00:00",
                "channel": "alipay",
            }
            assert (await notify(self.http, body)).status_code == 200
        await self._collect_refunds()

    async def _collect_refunds(self) -> None:
        async with self.runtime.db.reader() as session:
            known = set(self.refunds)
            for refund_id in await session.scalars(select(Refund.id).order_by(Refund.created_at)):
                if refund_id not in known:
                    self.refunds.append(refund_id)

    async def _claim(self, with_account: bool) -> None:
        member_id = await self.member()
        if with_account:
            await set_account(self.http, self.keys["citizen"], member_id)
        body = claim(member_id, "accident_condolence", "accident", date(2026, 4, 1), "p")
        self.payouts.append((await filed(self.http, self.keys["citizen"], body))["payout"])

    async def _payout(self, index: int, words: list[str]) -> None:
        """What the gateway (or the finance office, for `reissue`) says next about one payout."""
        if not self.payouts:
            return
        payout = self.payouts[index % len(self.payouts)]
        for word in words:
            if word == "reissue":
                answer = await self.http.post(
                    f"/v1/payouts/{payout['id']}/reissue", json={}, headers=self.keys["finance"]
                )
                assert answer.status_code in (200, 409, 422), answer.text
                continue
            body = {
                "event_id": f"out-{uuid.uuid4()}",
                "payout_id": payout["id"],
                "status": word,
                "amount_fen": payout["amount_fen"],
                "occurred_at": "2026-11-23T04:00:00+00:00",
            }
            assert (await notify_payout(self.http, body)).status_code == 200

    async def _operator_refund(self, index: int, amount_fen: int) -> None:
        async with self.runtime.db.writer() as session:
            orders = list(
                (
                    await session.scalars(select(PaymentOrder.id).order_by(PaymentOrder.created_at))
                ).all()
            )
            if not orders:
                return
            order = await session.get(
                PaymentOrder, orders[index % len(orders)], with_for_update=True
            )
            assert order is not None
            await refunds.owe(session, order, amount_fen, "operator_correction")
            await session.commit()
        await self._collect_refunds()

    async def _retry(self, index: int) -> None:
        if not self.refunds:
            return
        refund_id = self.refunds[index % len(self.refunds)]
        answer = await self.http.post(
            f"/v1/refunds/{refund_id}/retry", headers=self.keys["finance"]
        )
        assert answer.status_code in (200, 409), answer.text
        await self._collect_refunds()

    async def _refund(self, index: int, succeeded: bool) -> None:
        if not self.refunds:
            return
        refund_id = self.refunds[index % len(self.refunds)]
        async with self.runtime.db.reader() as session:
            amount = await session.scalar(select(Refund.amount_fen).where(Refund.id == refund_id))
        body = {
            "event_id": f"ref-{uuid.uuid4()}",
            "refund_id": str(refund_id),
            "status": "succeeded" if succeeded else "failed",
            "amount_fen": amount,
            "occurred_at": "2026-11-24T04:00:00+00:00",
        }
        assert (await notify_refund(self.http, body)).status_code == 200


async def check_the_books(runtime) -> None:
    async with runtime.db.reader() as session:
        assert await unbalanced_entries(session) == 0
        balances = {
            f.account: f.closing_fen for f in await account_figures(session, EARLIEST, LATEST)
        }
        received = await session.scalar(
            select(func.coalesce(func.sum(PaymentOrder.received_fen), 0))
        )
        refunds = list((await session.scalars(select(Refund))).all())
        payouts = list((await session.scalars(select(Payout))).all())
        orders = {o.id: o for o in (await session.scalars(select(PaymentOrder))).all()}
    refunded = sum(r.amount_fen for r in refunds if r.status == "succeeded")
    paid_out = sum(p.amount_fen for p in payouts if p.status == PayoutStatus.PAID.value)
    assert balances[Account.GATEWAY_CLEARING] == received - refunded - paid_out
    unpaid = sum(p.amount_fen for p in payouts if p.status != PayoutStatus.PAID.value)
    owed = -(balances[Account.BENEFITS_PAYABLE] + balances[Account.PAYOUTS_IN_TRANSIT])
    assert owed == unpaid
    assert -balances[Account.REFUNDS_PAYABLE] == sum(
        r.amount_fen for r in refunds if r.status not in ("succeeded", "retried")
    )
    for order_id, order in orders.items():
        given_back = sum(
            r.amount_fen
            for r in refunds
            if r.payment_order_id == order_id and r.status != "retried"
        )
        assert given_back <= order.received_fen


async def keys_for(application) -> dict:
    runtime = application.state.runtime
    async with runtime.db.writer() as session:
        citizen = await create_client(session, role=Role.CITIZEN_APP, name="property app")
        finance = await create_client(session, role=Role.FINANCE, name="property finance")
        await session.commit()
    return {
        "citizen": bearer(citizen.api_key),
        "finance": bearer(finance.api_key),
    }


def test_the_books_balance_whatever_happens(settings, test_var_dir, db, seeder):
    @hypothesis_settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(OPERATIONS)
    def books_balance(operations) -> None:
        async def example() -> None:
            async with claims_app(settings, test_var_dir) as application:
                async with asgi_client(application) as http:
                    world = World(
                        application, http, await keys_for(application) | {"client_id": seeder}
                    )
                    for operation in operations:
                        await world.run(operation)
                await check_the_books(application.state.runtime)

        asyncio.run(example())

    books_balance()
