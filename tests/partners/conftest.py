"""Platform partner fixtures: the claims app (clock at 23 November 2026, 10:00 Shanghai), two
platforms, and covered workers written straight to the tables."""

from __future__ import annotations

import itertools
from datetime import date

import pytest
from sqlalchemy import update

from app.core.policy import Role
from app.demo.cover import Seed, add_covered_members, add_paid_period
from app.members.models import Member
from app.platforms.schemas import PlatformIn
from app.platforms.service import add_platform
from tests.claims import conftest as claims
from tests.conftest import bearer

# The claims fixtures, shared.
PLAN = claims.PLAN
app = claims.app
http = claims.http
seeder = claims.seeder

OTHER_PLATFORM = "other-rides"
_numbers = itertools.count(10_000)


@pytest.fixture
async def platforms(db, runtime, seeder):
    """`demo-delivery` (from the seeder) and `other-rides`."""
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
    return seeder


@pytest.fixture
def worker(db, runtime, platforms):
    """`await worker(platform, starts_on=..., died_on=...)` -> the new worker's platform id."""

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
                Seed(PLAN, starts_on, platforms, platform),
                [next(_numbers)],
            )
            if also_from is not None:  # a second period for the same member, e.g. a renewal
                await add_paid_period(
                    session,
                    runtime.cipher,
                    Seed(PLAN, also_from, platforms, platform),
                    member.member_id,
                    member.platform_worker_id,
                )
            if died_on is not None:
                await session.execute(
                    update(Member).where(Member.id == member.member_id).values(died_on=died_on)
                )
            await session.commit()
        return member.platform_worker_id

    return make


@pytest.fixture
async def delivery(api_key):
    return bearer(await api_key(Role.PLATFORM, "demo-delivery", "demo-delivery-api"))


@pytest.fixture
async def rides(api_key):
    return bearer(await api_key(Role.PLATFORM, OTHER_PLATFORM, "other-rides-api"))
