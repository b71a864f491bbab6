"""Platform partners: a second platform, and covered workers of either written straight to the
tables (a renewal or a death added on request)."""

from __future__ import annotations

import itertools
from datetime import date

from app.demo.cover import Seed, add_covered_members, add_paid_period
from app.members.models import Member
from app.platforms.schemas import PlatformIn
from app.platforms.service import add_platform
from tests.support.claims import PLAN

OTHER_PLATFORM = "other-rides"
_numbers = itertools.count(10_000)


async def add_other_platform(db, runtime) -> None:
    async with db.writer() as session:
        await add_platform(
            session,
            runtime.cipher,
            PlatformIn(
                code=OTHER_PLATFORM,
                name="other",
                work_types=["ride_hailing"],
                verify_url="http://other.test/verify",
            ),
            None,
        )
        await session.commit()


def covered_workers(db, runtime, seeder):
    """`await make(platform, starts_on=..., died_on=...)` -> the new worker's platform id."""

    async def make(
        platform: str = "demo-delivery",
        *,
        starts_on: date = date(2026, 1, 1),
        also_from: date | None = None,
        died_on: date | None = None,
    ) -> str:
        async with db.writer() as session:
            [member] = await add_covered_members(
                session,
                runtime.cipher,
                Seed(PLAN, starts_on, seeder, platform),
                [next(_numbers)],
            )
            if also_from is not None:  # a second period for the same member, e.g. a renewal
                await add_paid_period(
                    session,
                    runtime.cipher,
                    Seed(PLAN, also_from, seeder, platform),
                    member.member_id,
                    member.platform_worker_id,
                )
            if died_on is not None:
                # Through the model: the date of death is sealed at rest.
                (await session.get(Member, member.member_id)).died_on = died_on
            await session.commit()
        return member.platform_worker_id

    return make
