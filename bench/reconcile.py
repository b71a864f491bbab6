"""Reconciliation of a 100,000-line gateway bill against 100,000 recorded payments on PostgreSQL,
with 50 differences injected (20 payments the service never saw, 15 it saw that the bill leaves
out, 15 wrong amounts): the run must find exactly those 50. Reports its time and peak memory.

    make bench            # or: python -m bench.reconcile [--lines N]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import time
import tracemalloc
import uuid
from collections import Counter
from datetime import UTC, date, datetime

from sqlalchemy import insert, select

from app.core.config import Settings, with_development_secrets
from app.core.migrate import upgrade
from app.core.policy import Role
from app.core.runtime import Runtime
from app.gateway.contract import BillLine, write_bill
from app.payments.models import PaymentNotification, PaymentOrder
from app.reconciliation import service
from app.reconciliation.models import ReconciliationDifference
from app.tables import import_all_models
from bench.harness import fresh_database

DAY = date(2026, 11, 23)
PAID_AT = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
INSERT_ROWS = 5000
MISSING_HERE, MISSING_THERE, WRONG_AMOUNT = 20, 15, 15


async def seed(runtime: Runtime, lines: int) -> list[uuid.UUID]:
    """`lines` paid orders (one application stands behind all: the bench is about matching)."""
    enrolment_id = await one_application(runtime)
    orders = [uuid.uuid4() for _ in range(lines)]
    async with runtime.db.writer() as session:
        for start in range(0, lines, INSERT_ROWS):
            chunk = orders[start : start + INSERT_ROWS]
            await session.execute(
                insert(PaymentOrder),
                [
                    {
                        "id": o,
                        "enrolment_id": enrolment_id,
                        "amount_fen": 7200,
                        "status": "paid",
                        "paid_at": PAID_AT,
                        "received_fen": 7200,
                        "failed_attempts": 0,
                    }
                    for o in chunk
                ],
            )
            await session.execute(
                insert(PaymentNotification),
                [
                    {
                        "event_id": f"evt-{o}",
                        "payment_order_id": o,
                        "status": "succeeded",
                        "amount_fen": 7200,
                        "outcome": "activated",
                        "paid_at": PAID_AT,
                    }
                    for o in chunk
                ],
            )
        await session.commit()
    return orders


async def one_application(runtime: Runtime) -> uuid.UUID:
    """A covered member and an application of theirs, for the orders to point at."""
    from app.clients.service import create_client
    from app.core.clock import utc_now
    from app.demo.cover import Seed, add_covered_members
    from app.enrolment.writer import NewApplication, write
    from app.members import service as members
    from app.plans import DEFAULT_PLAN_CODE, in_force
    from app.platforms.schemas import PlatformIn
    from app.platforms.service import add_platform

    plan = in_force(DEFAULT_PLAN_CODE, date(2026, 1, 1))
    assert plan is not None
    cipher = runtime.cipher
    async with runtime.db.writer() as session:
        client = await create_client(session, role=Role.CITIZEN_APP, name="bench")
        platform = PlatformIn(
            code="bench", name="bench", work_types=["food_delivery"], verify_url="http://x.test/v"
        )
        await add_platform(session, cipher, platform, None)
        seed = Seed(plan, date(2026, 1, 1), client.client.id, "bench")
        [member] = await add_covered_members(session, cipher, seed, [1])
        application = NewApplication(
            id=uuid.uuid4(),
            member_id=member.member_id,
            plan_code=plan.code,
            plan_version=plan.version,
            channel="individual",
            status="paid",
            platform_code="bench",
            platform_worker_id="bench-1",
            work_type="food_delivery",
            work_city="上海",
            applied_on=DAY,
            name_cipher=cipher.encrypt("王五", context=members.NAME),
            phone_cipher=cipher.encrypt("13900001111", context=members.PHONE),
            created_by_client_id=client.client.id,
            created_at=utc_now(),
        )
        await write(session, [], [application])
        await session.commit()
    return application.id


def bill_of(orders: list[uuid.UUID]) -> bytes:
    kept = orders[MISSING_THERE:]  # the first ones are left off the bill
    lines = [
        BillLine(
            kind="payment",
            gateway_ref=f"g{n}",
            our_ref=str(order),
            amount_fen=7000 if n < WRONG_AMOUNT else 7200,
            occurred_at=PAID_AT,
            fee_fen=4,
        )
        for n, order in enumerate(kept)
    ]
    lines += [
        BillLine(
            kind="payment",
            gateway_ref=f"x{n}",
            our_ref=str(uuid.uuid4()),
            amount_fen=7200,
            occurred_at=PAID_AT,
            fee_fen=4,
        )
        for n in range(MISSING_HERE)
    ]
    return write_bill(lines)


async def run(database_url: str, lines: int) -> None:
    import_all_models()
    await asyncio.to_thread(upgrade, database_url)
    settings = with_development_secrets(Settings(DATABASE_URL=database_url))
    runtime = Runtime.from_settings(settings)
    try:
        orders = await seed(runtime, lines)
        bill = bill_of(orders)
        async with runtime.db.writer() as session:
            reconciliation, _ = await service.submit(session, DAY, bill, "upload", None)
            await session.commit()
        tracemalloc.start()
        started = time.perf_counter()
        await service.reconcile(runtime, reconciliation.id)
        seconds = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        async with runtime.db.reader() as session:
            found = await service.get(session, reconciliation.id)
            kinds = Counter(
                (
                    await session.scalars(
                        select(ReconciliationDifference.kind).where(
                            ReconciliationDifference.reconciliation_id == reconciliation.id
                        )
                    )
                ).all()
            )
    finally:
        await runtime.close()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"reconciliation of a {found.bill_lines:,}-line bill against {found.our_entries:,} payments"
    )
    print(
        f"  time {seconds:.2f} s, peak Python allocations {peak / 2**20:.1f} MiB, "
        f"process max RSS {rss:.0f} MiB"
    )
    print(f"  differences {found.differences}: {dict(sorted(kinds.items()))}")
    expected = {
        "amount_mismatch": WRONG_AMOUNT,
        "missing_here": MISSING_HERE,
        "missing_there": MISSING_THERE,
    }
    assert dict(kinds) == expected, kinds
    print("  exactly the injected differences: yes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=100_000)
    args = parser.parse_args()
    with fresh_database() as url:
        asyncio.run(run(url, args.lines))


if __name__ == "__main__":
    main()
