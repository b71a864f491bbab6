"""The demo world: four months of the service's life, lived request by request up to today.

Four months ago riders of the demo platform apply through the government app and pay (one pays
twice and is refunded); two days later the Pudong district union sends a batch (accepted,
rejected and duplicate rows) and pays its invoice. A claim filed in the first week never gets its
last document and has expired by today. Today the claims come in: approved and paid, approved
with the transfer failed, waiting for an account, for a second approval or for the service's
worker to send it; refused, appealed, waiting for documents or for review, withdrawn. One more
rider applies today and has not paid yet.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.batches.chunks import CHUNK_JOB
from app.batches.invoices import ACTIVATION_JOB
from app.claims.expiry import expire_overdue_claims
from app.core.clock import SHANGHAI, Clock
from app.core.config import Settings
from app.demo.riders import (
    APPLICANTS,
    LATECOMER,
    MISTYPED,
    NOT_ON_PLATFORM,
    PLATFORM,
    TOO_OLD,
    UNION_MEMBERS,
    Rider,
    account,
    document,
)
from app.demo.world import AppFactory, DemoFailed, DemoService
from app.jobs.worker import Handler
from app.members.models import PlatformWorker
from app.payments.refunds import INSTRUCT_REFUND_JOB
from app.payouts.lifecycle import INSTRUCT_JOB
from app.plans import DEFAULT_PLAN_CODE, in_force
from app.platforms.models import Platform

MONTHS_AGO = timedelta(days=120)
# The jobs the story waits for; messages to workers and webhook deliveries are left queued for
# the service's own job workers.
JOB_KINDS = frozenset({CHUNK_JOB, ACTIVATION_JOB, INSTRUCT_JOB, INSTRUCT_REFUND_JOB})
FAILING_ACCOUNT = "6222000000001030"  # the gateway refuses transfers to it: account_closed


@dataclass
class Told:
    """What the story made, counted from the service's own lists."""

    covered: int = 0
    batch: dict[str, int] = field(default_factory=dict)
    claims: dict[str, int] = field(default_factory=dict)
    payouts: dict[str, int] = field(default_factory=dict)
    refunds: int = 0


async def world_seeded(session: AsyncSession) -> bool:
    """Whether an earlier run made the world (its first rider is enrolled)."""
    seen = await session.scalar(
        select(PlatformWorker.id).where(
            PlatformWorker.platform_code == PLATFORM,
            PlatformWorker.platform_worker_id == APPLICANTS[0].worker_id,
        )
    )
    return seen is not None


async def seed_world(
    make_app: AppFactory,
    settings: Settings,
    handlers: Mapping[str, Handler],
    keys: Mapping[str, str],
) -> Told | None:
    """Live the four months up to the service's today (`MUTUALAID_CLOCK` or the real one) with
    the demo clients' `keys` (role -> key); None when an earlier run already did."""
    now = Clock(settings.clock).now()
    service = DemoService(make_app, settings, handlers, JOB_KINDS, now)
    try:
        async with service.runtime.db.reader() as session:
            platform = await session.get(Platform, PLATFORM)
            if platform is None or await world_seeded(session):
                return None
        urls = [url for url in (platform.verify_url, platform.bulk_verify_url) if url]
        everyone = [*APPLICANTS, LATECOMER, *UNION_MEMBERS, TOO_OLD]
        service.platform_knows(urls, [rider.platform_record() for rider in everyone])
        return await _Story(service, keys, now).tell()
    finally:
        await service.close()


class _Story:
    def __init__(self, service: DemoService, keys: Mapping[str, str], now: datetime) -> None:
        self.service, self.keys, self.now = service, keys, now
        self.today = now.astimezone(SHANGHAI).date()
        self.day = self.today
        self.members: dict[str, str] = {}  # worker id -> member id
        self.told = Told()

    def move_to(self, day: date) -> None:
        """The story's next day, at ten in the morning; today, at the clock's own time."""
        self.day = day
        at = self.now if day == self.today else datetime.combine(day, time(10), tzinfo=SHANGHAI)
        self.service.at(at)

    async def tell(self) -> Told:
        first_day = self.today - MONTHS_AGO
        self.move_to(first_day)
        for rider in APPLICANTS:
            await self.apply_and_pay(rider, times=2 if rider is APPLICANTS[-1] else 1)
        self.move_to(first_day + timedelta(days=2))
        await self.union_batch()
        self.move_to(first_day + timedelta(days=6))
        await self.claim("rider-205", "hospital_allowance", 2, admitted=2, discharged=1, docs=1)
        self.move_to(self.today)
        await expire_overdue_claims(self.service.runtime)
        await self.apply(LATECOMER)
        await self.claims_today()
        await self.count()
        return self.told

    async def apply(self, rider: Rider) -> dict[str, Any]:
        """The rider's application and its payment order (citizen_app)."""
        joins = {"union": {"join": True}, "work_district": rider.district}
        body = {
            "plan_code": DEFAULT_PLAN_CODE,
            "id_number": rider.id_number,
            "name": rider.name,
            "phone": rider.phone,
            "platform_code": PLATFORM,
            "platform_worker_id": rider.worker_id,
            "work_type": rider.work_type,
            "consent": {"sensitive_personal_data": True},
            **(joins if rider.district else {"union": {"member_number": f"SH-{rider.phone}"}}),
        }
        citizen = self.keys["citizen_app"]
        enrolment = await self.service.call(
            "POST", "/v1/enrolments", citizen, json=body, expect=201
        )
        self.members[rider.worker_id] = enrolment["member_id"]
        path = f"/v1/enrolments/{enrolment['id']}/payment-orders"
        return await self.service.call("POST", path, citizen, expect=201)

    async def apply_and_pay(self, rider: Rider, times: int) -> None:
        """Paid through the gateway; a second payment of the same order is refunded."""
        order = await self.apply(rider)
        for _ in range(times):
            paid = {"payment_order_id": order["id"], "amount_fen": order["amount_fen"]}
            await self.service.steer("/_sim/payments", paid)
        await self.service.settle()
        self.told.refunds += times - 1

    async def union_batch(self) -> None:
        """The Pudong union's CSV file, processed, and its invoice paid."""
        rows = [*UNION_MEMBERS, TOO_OLD, NOT_ON_PLATFORM, APPLICANTS[0], UNION_MEMBERS[0]]
        lines = [
            "ref,id_number,name,phone,platform_code,platform_worker_id,work_type,"
            "union_member_number",
            *(rider.csv_row(f"pd-{n:04d}") for n, rider in enumerate(rows, start=1)),
            f"pd-{len(rows) + 1:04d},{MISTYPED}",
        ]
        union = self.keys["union"]
        batch = await self.service.call(
            "POST",
            f"/v1/enrolment-batches?plan_code={DEFAULT_PLAN_CODE}",
            union,
            content="\n".join(lines).encode(),
            headers={"Content-Type": "text/csv"},
            expect=202,
        )
        await self.service.settle()
        done = await self.service.call("GET", f"/v1/enrolment-batches/{batch['id']}", union)
        self.told.batch = {k: done[k] for k in ("accepted", "rejected", "duplicate")}
        invoice = done["invoice"]
        paid = {"payment_order_id": invoice["id"], "amount_fen": invoice["amount_fen"]}
        await self.service.steer("/_sim/payments", paid)
        await self.service.settle()
        path = f"/v1/enrolment-batches/{batch['id']}/rows?outcome=accepted"
        for row in (await self.service.call("GET", path, union))["rows"]:
            self.members[rows[row["row_number"] - 1].worker_id] = row["member_id"]

    async def claims_today(self) -> None:
        examiner, citizen = self.keys["examiner"], self.keys["citizen_app"]
        failing = {"kind": "transfer", "match_account_no": FAILING_ACCOUNT, "outcome": "fail"}
        await self.service.steer("/_sim/rules", failing | {"reason": "account_closed"})
        await self.account_on_file("rider-102", "bank", "6222000000001020")
        await self.account_on_file("rider-105", "bank", "6222000000001050")

        await self.claim("rider-101", "accident_condolence", 30, pay_to=("alipay", "13900000101"))
        await self.claim("rider-102", "hospital_allowance", 40, admitted=40, discharged=38)
        await self.claim(  # its transfer fails
            "rider-103", "hospital_allowance", 25, admitted=25, discharged=23,
            pay_to=("bank", FAILING_ACCOUNT),
        )  # fmt: skip
        await self.claim("rider-104", "accident_condolence", 12)  # no account anywhere
        disability = await self.claim(
            "rider-105", "accidental_disability", 50, assessed=20, grade=8
        )
        review = {"decision": "approve"}  # ¥180,000: over the plan's four-eyes threshold
        await self.service.call(
            "POST", f"/v1/claims/{disability['id']}/review", examiner, json=review
        )
        refused = await self.claim(  # in the illness waiting period
            "rider-106", "hospital_allowance", 115, admitted=115, discharged=112, kind="illness"
        )
        grounds = {"grounds": "The stay followed a fall at work, not an illness."}
        await self.service.call("POST", f"/v1/claims/{refused['id']}/appeal", citizen, json=grounds)
        await self.claim("rider-107", "critical_illness", 60, diagnosed=60, kind="illness", docs=2)
        await self.claim("rider-108", "accident_condolence", 130)  # before cover began
        await self.claim("rider-201", "accidental_disability", 45, assessed=10, grade=10)
        withdrawn = await self.claim(
            "rider-202", "hospital_allowance", 15, admitted=15, discharged=12, docs=1
        )
        await self.service.call("POST", f"/v1/claims/{withdrawn['id']}/withdraw", citizen)
        await self.service.settle()  # the transfers: paid, or failed
        # Approved after the demo's gateway has gone: its transfer waits for the service's worker.
        await self.claim("rider-203", "accident_condolence", 8, pay_to=("bank", "6222000000002030"))

    async def account_on_file(self, worker_id: str, kind: str, number: str) -> None:
        member = self.members[worker_id]
        body = account(kind, number, self._rider(worker_id).name)
        await self.service.call(
            "PUT", f"/v1/members/{member}/payout-account", self.keys["citizen_app"], json=body
        )

    async def claim(
        self,
        worker_id: str,
        benefit: str,
        days_ago: int,
        *,
        kind: str = "accident",
        docs: int | None = None,
        pay_to: tuple[str, str] | None = None,
        **facts_days_ago: int,
    ) -> dict[str, Any]:
        """A claim for an event `days_ago`, with the facts' dates as days ago too (`admitted=3`:
        `admitted_on` three days ago); `docs` files only the first so many documents."""
        event_on = self.day - timedelta(days=days_ago)
        facts: dict[str, Any] = {}
        for name, value in facts_days_ago.items():
            if name == "grade":
                facts["injuries"] = [{"grade": value}]
            else:
                facts[f"{name}_on"] = (self.day - timedelta(days=value)).isoformat()
        if benefit == "critical_illness":
            facts |= {"disease": "malignant_tumour", "severity": "severe"}
        plan = in_force(DEFAULT_PLAN_CODE, event_on)
        if plan is None:
            raise DemoFailed(f"no version of {DEFAULT_PLAN_CODE} is in force on {event_on}")
        required = plan.benefits[benefit].required_documents.value[:docs]
        event = {
            "kind": kind,
            "occurred_on": event_on.isoformat(),
            "ref": f"{worker_id}-{days_ago}",
        }
        body: dict[str, Any] = {
            "member_id": self.members[worker_id],
            "benefit": benefit,
            "event": event,
            "facts": facts,
            "documents": [document(doc_type, worker_id) for doc_type in required],
        }
        if pay_to:
            body["payee_account"] = account(*pay_to, self._rider(worker_id).name)
        citizen = self.keys["citizen_app"]
        return await self.service.call("POST", "/v1/claims", citizen, json=body, expect=201)

    def _rider(self, worker_id: str) -> Rider:
        return next(r for r in (*APPLICANTS, *UNION_MEMBERS) if r.worker_id == worker_id)

    async def count(self) -> None:
        examiner, finance = self.keys["examiner"], self.keys["finance"]
        self.told.covered = len(self.members) - 1  # the latecomer has not paid
        for status in (
            "pending_documents",
            "pending_review",
            "approved",
            "rejected",
            "withdrawn",
            "expired",
        ):
            page = await self.service.call("GET", f"/v1/claims?status={status}&limit=100", examiner)
            self.told.claims[status] = len(page["claims"])
        for status in ("awaiting_account", "awaiting_approval", "ready", "paid", "failed"):
            page = await self.service.call("GET", f"/v1/payouts?status={status}", finance)
            self.told.payouts[status] = len(page["items"])
