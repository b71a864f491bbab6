"""One covered member of the platform `demo-delivery`, written straight to the tables, for tests
that then drive real processes."""

from __future__ import annotations

from datetime import date

from app.demo.cover import CoveredMember, Seed, add_covered_members
from tests.support.claims import PLAN, add_seeder


async def covered_member(db, runtime, *, number: int, starts_on: date) -> CoveredMember:
    async with db.writer() as session:
        seeder = await add_seeder(session, runtime.cipher)
        [covered] = await add_covered_members(
            session, runtime.cipher, Seed(PLAN, starts_on, seeder, "demo-delivery"), [number]
        )
        await session.commit()
    return covered
