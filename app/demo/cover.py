"""Covered members written straight to the tables, as a paid application leaves them.

For demos, benchmarks and tests of what comes after cover (claims, coverage queries), where
going through enrolment and payment for thousands of members would only measure those. Members
and applications go through the writer every way in shares (`app.enrolment.writer`); the paid
order and the period are written as payment would leave them. Never used by the service's own
flows.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.crypto import PersonalDataCipher
from app.coverage.models import CoveragePeriodRecord
from app.enrolment import writer
from app.enrolment.models import EnrolmentStatus
from app.enrolment.writer import NewApplication, NewMember
from app.members import service as members
from app.members.models import PlatformWorker
from app.payments.models import PAID, PaymentOrder
from app.rules.calendar import ONE_DAY, add_months
from app.rules.id_numbers import check_character
from app.rules.plan import Plan

_FIRST_BIRTH_DAY = date(1970, 1, 1)


def synthetic_id_number(n: int, address: str = "310101") -> str:
    """A valid ID number, distinct for each `n` below 10 million (born 1970-1997)."""
    born = _FIRST_BIRTH_DAY + timedelta(days=n // 1000)
    first17 = f"{address}{born:%Y%m%d}{n % 1000:03d}"
    return first17 + check_character(first17)


SEED_NAME = "测试会员"


@dataclass(frozen=True)
class Seed:
    """The cover to seed: a plan's period from `starts_on`, paid the day before, applied for by
    `client_id` through `platform_code`."""

    plan: Plan
    starts_on: date
    client_id: uuid.UUID
    platform_code: str
    union_org_code: str | None = None

    @property
    def paid_at(self) -> datetime:
        return datetime.combine(self.starts_on - ONE_DAY, time(2, 0), tzinfo=UTC)


@dataclass(frozen=True)
class CoveredMember:
    member_id: uuid.UUID
    coverage_period_id: uuid.UUID
    platform_worker_id: str


async def add_covered_members(
    session: AsyncSession, cipher: PersonalDataCipher, seed: Seed, numbers: Iterable[int]
) -> list[CoveredMember]:
    """One member per number in `numbers`, each with one paid period (see `Seed`)."""
    paid_at = seed.paid_at
    new_members: list[NewMember] = []
    workers: list[dict[str, Any]] = []
    paid: list[_PaidPeriod] = []
    for n in numbers:
        phone = f"139{n:08d}"[-11:]
        identity = members.seal(cipher, members.Identity(synthetic_id_number(n), SEED_NAME, phone))
        new = NewMember(
            uuid.uuid4(),
            identity,
            consent_at=paid_at,
            created_at=paid_at,
            union_org_code=seed.union_org_code,
        )
        new_members.append(new)
        worker_id = f"seed-{n}"
        workers.append(
            {
                "id": uuid.uuid4(),
                "member_id": new.id,
                "platform_code": seed.platform_code,
                "platform_worker_id": worker_id,
                "work_type": "food_delivery",
                "created_at": paid_at,
            }
        )
        contact = (identity.name_cipher, identity.phone_cipher)
        paid.append(_paid_period(seed, new.id, worker_id, contact))
    await writer.write(session, new_members, [p.application for p in paid])
    await session.execute(insert(PlatformWorker), workers)
    await _write_paid(session, paid)
    return [
        CoveredMember(p.application.member_id, p.period["id"], p.application.platform_worker_id)
        for p in paid
    ]


async def add_paid_period(
    session: AsyncSession,
    cipher: PersonalDataCipher,
    seed: Seed,
    member_id: uuid.UUID,
    platform_worker_id: str,
    continues_previous: bool = False,
) -> uuid.UUID:
    """Another paid period for a seeded member (a renewal, or cover after a lapse)."""
    contact = (
        cipher.encrypt(SEED_NAME, context=members.NAME),
        cipher.encrypt("13900000000", context=members.PHONE),
    )
    paid = _paid_period(seed, member_id, platform_worker_id, contact)
    paid.period["continues_previous"] = continues_previous
    await writer.write(session, [], [paid.application])
    await _write_paid(session, [paid])
    return uuid.UUID(str(paid.period["id"]))


@dataclass(frozen=True)
class _PaidPeriod:
    application: NewApplication
    order: dict[str, Any]
    period: dict[str, Any]


def _paid_period(
    seed: Seed, member_id: uuid.UUID, worker_id: str, contact: tuple[bytes, bytes]
) -> _PaidPeriod:
    """An application paid the day before the seed's start, its order and its period."""
    plan, paid_at = seed.plan, seed.paid_at
    application = NewApplication(
        id=uuid.uuid4(),
        member_id=member_id,
        plan_code=plan.code,
        plan_version=plan.version,
        channel="individual",
        status=EnrolmentStatus.PAID.value,
        platform_code=seed.platform_code,
        platform_worker_id=worker_id,
        work_type="food_delivery",
        work_city="shanghai",
        applied_on=paid_at.date(),
        name_cipher=contact[0],
        phone_cipher=contact[1],
        created_by_client_id=seed.client_id,
        created_at=paid_at,
    )
    order = {
        "id": uuid.uuid4(),
        "enrolment_id": application.id,
        "amount_fen": plan.premium_fen.value,
        "status": PAID,
        "paid_at": paid_at,
        "channel": "seed",
        "failed_attempts": 0,
        "created_at": paid_at,
    }
    period = {
        "id": uuid.uuid4(),
        "member_id": member_id,
        "plan_code": plan.code,
        "plan_version": plan.version,
        "starts_on": seed.starts_on,
        "ends_on": add_months(seed.starts_on, plan.period.months.value) - ONE_DAY,
        "continues_previous": False,
        "enrolment_id": application.id,
        "payment_order_id": order["id"],
        "created_at": paid_at,
    }
    return _PaidPeriod(application, order, period)


async def _write_paid(session: AsyncSession, paid: list[_PaidPeriod]) -> None:
    await session.execute(insert(PaymentOrder), [p.order for p in paid])
    await session.execute(insert(CoveragePeriodRecord), [p.period for p in paid])
