"""Paid enrolments become cover: one for the government app's order, many for a union invoice.

For each enrolment, the rules core computes the period (the Shanghai day after `paid_at`, or
straight after the current period for a renewal; ending the day before the 60th birthday where
the plan does not let cover continue past the age limit) under the enrolment's plan version.
The period must start while that version is in force (a version never sells cover outside its
range), and the member must still be under the age limit on its first day; otherwise there is no
cover and the enrolment becomes `refund_due`. Otherwise the contact details the application
carried become the member's, the platform account is linked, and the period is written with its
version. Rows are loaded a chunk at a time and locked in id order.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app import plans
from app.audit.service import Change, record
from app.core.clock import shanghai_date
from app.core.crypto import PersonalDataCipher
from app.coverage.models import CoveragePeriodRecord
from app.enrolment.models import OPEN_STATUSES, Enrolment, EnrolmentStatus
from app.members.models import Member, PlatformWorker
from app.members.service import ID_NUMBER, apply_contact
from app.notifications.events import cover_started
from app.notifications.outbox import notify
from app.payments.models import PaymentOrder
from app.payments.schemas import CoverageOut
from app.rules.coverage import CoveragePeriod, application_lapsed, period_for_payment
from app.rules.eligibility import check_age
from app.rules.id_numbers import IdNumber, parse_id_number
from app.rules.plan import Plan
from app.webhooks.models import EventType
from app.webhooks.outbox import CoverageChange, emit


@dataclass(frozen=True)
class Started:
    enrolment_id: uuid.UUID
    outcome: str  # "activated" or "refund_due"
    coverage: CoverageOut | None
    reason: str | None = None  # why the money goes back, when it does


@dataclass
class _Batch:
    """What activating a few enrolments reads once: their members (locked), each member's
    latest period, and the platform accounts already linked."""

    cipher: PersonalDataCipher
    order: PaymentOrder
    paid_at: datetime
    members: dict[uuid.UUID, Member]
    latest: dict[uuid.UUID, CoveragePeriod]
    links: dict[tuple[str, str], PlatformWorker]


async def activate_many(
    session: AsyncSession,
    cipher: PersonalDataCipher,
    enrolments: Sequence[Enrolment],
    order: PaymentOrder,
    paid_at: datetime,
) -> list[Started]:
    """Start cover for these enrolments (locked by the caller), in the caller's transaction."""
    batch = await _load(session, cipher, enrolments, order, paid_at)
    started = []
    changes: list[CoverageChange] = []
    for enrolment in enrolments:
        result = await _activate(session, batch, enrolment)
        started.append(result)
        if result.coverage is not None:
            changes.append(
                CoverageChange(
                    enrolment.member_id,
                    EventType.COVERAGE_ACTIVATED,
                    enrolment.plan_code,
                    result.coverage.starts_on,
                    result.coverage.ends_on,
                )
            )
    await session.flush()
    await emit(session, changes)  # platforms hear of it in this same transaction
    await notify(
        session,
        [
            cover_started(e.member_id, e.id, s.coverage.starts_on, s.coverage.ends_on)
            for e, s in zip(enrolments, started, strict=True)
            if s.coverage is not None
        ],
    )
    return started


async def _load(
    session: AsyncSession,
    cipher: PersonalDataCipher,
    enrolments: Sequence[Enrolment],
    order: PaymentOrder,
    paid_at: datetime,
) -> _Batch:
    member_ids = sorted({e.member_id for e in enrolments})
    members = {
        m.id: m
        for m in await session.scalars(
            select(Member).where(Member.id.in_(member_ids)).order_by(Member.id).with_for_update()
        )
    }
    latest: dict[uuid.UUID, CoveragePeriod] = {}
    for row in await session.scalars(
        select(CoveragePeriodRecord).where(CoveragePeriodRecord.member_id.in_(member_ids))
    ):
        known = latest.get(row.member_id)
        if known is None or row.ends_on > known.ends_on:
            latest[row.member_id] = CoveragePeriod(
                row.starts_on, row.ends_on, row.continues_previous
            )
    accounts = {(e.platform_code, e.platform_worker_id) for e in enrolments}
    links = {
        (link.platform_code, link.platform_worker_id): link
        for link in await session.scalars(
            select(PlatformWorker).where(
                tuple_(PlatformWorker.platform_code, PlatformWorker.platform_worker_id).in_(
                    accounts
                )
            )
        )
    }
    return _Batch(cipher, order, paid_at, members, latest, links)


async def _activate(session: AsyncSession, batch: _Batch, enrolment: Enrolment) -> Started:
    plan = plans.of_record(enrolment.plan_code, enrolment.plan_version)
    member = batch.members[enrolment.member_id]
    paid_on = shanghai_date(batch.paid_at)
    if enrolment.status != EnrolmentStatus.AWAITING_PAYMENT.value or application_lapsed(
        plan, enrolment.applied_on, paid_on
    ):
        # Paid for an application that is no longer open (expired and replaced, or decided), or
        # paid after it lapsed (an order opened in time and paid late, a union invoice paid
        # after its applications' validity): no cover, the money goes back.
        return await _refund_due(session, batch, enrolment, "paid_when_not_open")
    if member.died_on is not None and plan.claims.death_ends_cover.value:
        # A death ends cover for good: a premium paid afterwards (a renewal left open) buys
        # nothing and goes back.
        return await _refund_due(session, batch, enrolment, "paid_after_death")
    identity = parse_id_number(batch.cipher.decrypt(member.id_number_cipher, context=ID_NUMBER))
    assert isinstance(identity, IdNumber)
    period = period_for_payment(plan, paid_on, batch.latest.get(member.id), identity.birth_date)
    in_force = plans.in_force(plan.code, period.starts_on)
    if in_force is None or in_force.version != plan.version:
        # Paid so late that cover would start after the version ends (or a renewal that would
        # start outside it): the version's terms and premium do not apply then.
        return await _refund_due(session, batch, enrolment, "paid_when_version_not_in_force")
    too_old = check_age(plan, identity.birth_date, period.starts_on)
    new_status = EnrolmentStatus.REFUND_DUE if too_old else EnrolmentStatus.PAID
    record(
        session,
        Change(
            entity="enrolment",
            entity_id=enrolment.id,
            action="paid",
            client_id=None,
            from_status=enrolment.status,
            to_status=new_status.value,
            details={"refused_on_first_day": [f.code for f in too_old]} if too_old else None,
        ),
    )
    enrolment.status = new_status.value
    if too_old:
        return Started(enrolment.id, "refund_due", None, "age_limit_on_first_day")
    # The application has become cover: now its contact details and platform account are the
    # member's.
    apply_contact(member, batch.cipher, enrolment.name_cipher, enrolment.phone_cipher)
    await _link_account(session, batch, enrolment, member)
    await _write_period(session, batch, enrolment, plan, period)
    return Started(
        enrolment.id,
        "activated",
        CoverageOut(
            starts_on=period.starts_on,
            ends_on=period.ends_on,
            continues_previous=period.continues_previous,
        ),
    )


async def _refund_due(
    session: AsyncSession, batch: _Batch, enrolment: Enrolment, action: str
) -> Started:
    record(
        session,
        Change(
            entity="enrolment",
            entity_id=enrolment.id,
            action=action,
            client_id=None,
            from_status=enrolment.status,
            to_status=EnrolmentStatus.REFUND_DUE.value,
            details={"payment_order_id": str(batch.order.id)},
        ),
    )
    if enrolment.status in (s.value for s in OPEN_STATUSES):
        enrolment.status = EnrolmentStatus.REFUND_DUE.value
    return Started(enrolment.id, "refund_due", None, action)


async def _link_account(
    session: AsyncSession, batch: _Batch, enrolment: Enrolment, member: Member
) -> None:
    """The platform account the application named becomes the member's, unless another member
    already holds it (recorded, not fought over)."""
    account = (enrolment.platform_code, enrolment.platform_worker_id)
    link = batch.links.get(account)
    if link is None:
        batch.links[account] = PlatformWorker(
            member_id=member.id,
            platform_code=enrolment.platform_code,
            platform_worker_id=enrolment.platform_worker_id,
            work_type=enrolment.work_type,
        )
        session.add(batch.links[account])
    elif link.member_id == member.id:
        link.work_type = enrolment.work_type
    else:
        record(
            session,
            Change(
                entity="member",
                entity_id=member.id,
                action="platform_link_conflict",
                client_id=None,
                details={"platform_code": enrolment.platform_code},
            ),
        )


async def _write_period(
    session: AsyncSession,
    batch: _Batch,
    enrolment: Enrolment,
    plan: Plan,
    period: CoveragePeriod,
) -> None:
    row = CoveragePeriodRecord(
        id=uuid.uuid4(),
        member_id=enrolment.member_id,
        plan_code=plan.code,
        plan_version=plan.version,
        starts_on=period.starts_on,
        ends_on=period.ends_on,
        continues_previous=period.continues_previous,
        enrolment_id=enrolment.id,
        payment_order_id=batch.order.id,
    )
    session.add(row)
    record(
        session,
        Change(
            entity="coverage_period",
            entity_id=row.id,
            action="activated",
            client_id=None,
            to_status="active",
            details={
                "starts_on": str(period.starts_on),
                "ends_on": str(period.ends_on),
                "member_id": str(enrolment.member_id),
            },
        ),
    )
