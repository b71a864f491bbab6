"""Covered members written straight to the tables, as a paid application leaves them.

For demos, benchmarks and tests of what comes after cover (claims, coverage queries), where
going through enrolment and payment for thousands of members would only measure those.
Never used by the service's own flows.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.crypto import PersonalDataCipher
from app.core.masking import mask_id_number, mask_name, mask_phone
from app.coverage.models import CoveragePeriodRecord
from app.enrolment.models import Enrolment, EnrolmentStatus
from app.members.models import Member, PlatformWorker
from app.members.service import ID_NUMBER, NAME, PHONE, id_number_hash
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


@dataclass(frozen=True)
class CoveredMember:
    member_id: uuid.UUID
    coverage_period_id: uuid.UUID
    platform_worker_id: str


async def add_covered_members(
    session: AsyncSession,
    cipher: PersonalDataCipher,
    plan: Plan,
    *,
    numbers: Sequence[int],
    starts_on: date,
    client_id: uuid.UUID,
    platform_code: str,
    union_org_code: str | None = None,
) -> list[CoveredMember]:
    """One member per number in `numbers`, each with one paid period from `starts_on`."""
    paid_at = datetime.combine(starts_on - ONE_DAY, time(2, 0), tzinfo=UTC)
    members: list[dict[str, Any]] = []
    workers: list[dict[str, Any]] = []
    enrolments: list[dict[str, Any]] = []
    orders: list[dict[str, Any]] = []
    periods: list[dict[str, Any]] = []
    covered = []
    for n in numbers:
        id_no, name, phone = synthetic_id_number(n), "测试会员", f"139{n:08d}"[-11:]
        member_id, enrolment_id, order_id, period_id = (uuid.uuid4() for _ in range(4))
        worker_id = f"seed-{n}"
        members.append(
            {
                "id": member_id,
                "id_number_hash": id_number_hash(cipher, id_no),
                "id_number_cipher": cipher.encrypt(id_no, context=ID_NUMBER),
                "id_number_masked": mask_id_number(id_no),
                "name_cipher": cipher.encrypt(name, context=NAME),
                "name_masked": mask_name(name),
                "phone_hash": cipher.lookup_hash(phone, context=PHONE),
                "phone_cipher": cipher.encrypt(phone, context=PHONE),
                "phone_masked": mask_phone(phone),
                "union_org_code": union_org_code,
                "sensitive_data_consent_at": paid_at,
                "created_at": paid_at,
            }
        )
        workers.append(
            {
                "id": uuid.uuid4(),
                "member_id": member_id,
                "platform_code": platform_code,
                "platform_worker_id": worker_id,
                "work_type": "food_delivery",
                "created_at": paid_at,
            }
        )
        enrolment, order, period = _paid_period_rows(
            cipher,
            plan,
            member_id=member_id,
            starts_on=starts_on,
            client_id=client_id,
            platform_code=platform_code,
            platform_worker_id=worker_id,
            name=name,
            phone=phone,
            ids=(enrolment_id, order_id, period_id),
        )
        enrolments.append(enrolment)
        orders.append(order)
        periods.append(period)
        covered.append(CoveredMember(member_id, period_id, worker_id))
    for model, rows in (
        (Member, members),
        (PlatformWorker, workers),
        (Enrolment, enrolments),
        (PaymentOrder, orders),
        (CoveragePeriodRecord, periods),
    ):
        await session.execute(insert(model), rows)
    return covered


async def add_paid_period(
    session: AsyncSession,
    cipher: PersonalDataCipher,
    plan: Plan,
    *,
    member_id: uuid.UUID,
    starts_on: date,
    client_id: uuid.UUID,
    platform_code: str,
    platform_worker_id: str,
    continues_previous: bool = False,
) -> uuid.UUID:
    """Another paid period for an existing member (a renewal, or cover after a lapse)."""
    enrolment, order, period = _paid_period_rows(
        cipher,
        plan,
        member_id=member_id,
        starts_on=starts_on,
        client_id=client_id,
        platform_code=platform_code,
        platform_worker_id=platform_worker_id,
        name="测试会员",
        phone="13900000000",
        ids=(uuid.uuid4(), uuid.uuid4(), uuid.uuid4()),
        continues_previous=continues_previous,
    )
    for model, row in (
        (Enrolment, enrolment),
        (PaymentOrder, order),
        (CoveragePeriodRecord, period),
    ):
        await session.execute(insert(model), [row])
    return uuid.UUID(str(period["id"]))


def _paid_period_rows(
    cipher: PersonalDataCipher,
    plan: Plan,
    *,
    member_id: uuid.UUID,
    starts_on: date,
    client_id: uuid.UUID,
    platform_code: str,
    platform_worker_id: str,
    name: str,
    phone: str,
    ids: tuple[uuid.UUID, uuid.UUID, uuid.UUID],
    continues_previous: bool = False,
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """An application paid the day before `starts_on`, its order and its period, as rows."""
    enrolment_id, order_id, period_id = ids
    ends_on = add_months(starts_on, plan.period.months.value) - ONE_DAY
    paid_on = starts_on - ONE_DAY
    paid_at = datetime.combine(paid_on, time(2, 0), tzinfo=UTC)
    enrolment = {
        "id": enrolment_id,
        "member_id": member_id,
        "plan_code": plan.code,
        "plan_version": plan.version,
        "channel": "individual",
        "status": EnrolmentStatus.PAID.value,
        "platform_code": platform_code,
        "platform_worker_id": platform_worker_id,
        "work_type": "food_delivery",
        "work_city": "shanghai",
        "applied_on": paid_on,
        "checks": [],
        "name_cipher": cipher.encrypt(name, context=NAME),
        "phone_cipher": cipher.encrypt(phone, context=PHONE),
        "created_by_client_id": client_id,
        "created_at": paid_at,
    }
    order = {
        "id": order_id,
        "enrolment_id": enrolment_id,
        "amount_fen": plan.premium_fen.value,
        "status": PAID,
        "paid_at": paid_at,
        "channel": "seed",
        "failed_attempts": 0,
        "created_at": paid_at,
    }
    period = {
        "id": period_id,
        "member_id": member_id,
        "plan_code": plan.code,
        "plan_version": plan.version,
        "starts_on": starts_on,
        "ends_on": ends_on,
        "continues_previous": continues_previous,
        "enrolment_id": enrolment_id,
        "payment_order_id": order_id,
        "created_at": paid_at,
    }
    return enrolment, order, period
