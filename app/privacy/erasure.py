"""Erasure of members whose retention period has run out.

A member may be erased when nothing is left to do for them: no cover since the cut-off (today
less `MUTUALAID_RETENTION_DAYS`), no application, claim or cover later than it, no open
application or claim, and no money owed either way (a payout not yet paid, a refund not yet
paid). Erasure removes who they were and what happened to their health: the ID number, name and
phone (each replaced by the ciphertext of nothing, their look-up hashes by values that match no
one), the platform accounts, the application contacts, the messages sent or waiting, the
claims' facts, beneficiaries and accounts, the decisions' facts and explanations, and the dates
of death and disability grades in the usage counters. It keeps the money: periods, orders,
refunds, decisions' amounts, payouts and the ledger stay under the member's opaque id, so every
fund figure is unchanged.
Each erasure is audited.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import date, datetime, time, timedelta

from sqlalchemy import ColumnElement, and_, delete, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import Change, record
from app.claims.models import PENDING, Claim, ClaimDecision
from app.core.clock import SHANGHAI
from app.core.crypto import PersonalDataCipher
from app.core.runtime import Runtime
from app.coverage.models import CoveragePeriodRecord, EventUsageRecord, PeriodUsage
from app.enrolment.models import OPEN_STATUSES, Enrolment, EnrolmentStatus
from app.members import service as members
from app.members.models import Member, PlatformWorker
from app.notifications import outbox
from app.payments.models import PaymentOrder, Refund, RefundStatus
from app.payouts import accounts
from app.payouts.models import Payout, PayoutAccount, PayoutStatus

ERASED = "（已删除）"
BATCH = 100
# Money still to move for the member: a payout not paid, a refund not settled.
REFUNDS_OWED = (RefundStatus.PENDING, RefundStatus.INSTRUCTED, RefundStatus.FAILED)
ENROLMENTS_OPEN = (*OPEN_STATUSES, EnrolmentStatus.REFUND_DUE)


def erasable_condition(cutoff: date, created_before: datetime) -> list[ColumnElement[bool]]:
    """Members with nothing after `cutoff` and nothing open or owed."""
    m = Member.id
    return [
        Member.erased_at.is_(None),
        Member.created_at < created_before,
        ~exists().where(
            CoveragePeriodRecord.member_id == m, CoveragePeriodRecord.ends_on >= cutoff
        ),
        ~exists().where(
            Enrolment.member_id == m,
            or_(Enrolment.applied_on >= cutoff, Enrolment.status.in_(ENROLMENTS_OPEN)),
        ),
        ~exists().where(
            Claim.member_id == m, or_(Claim.filed_on >= cutoff, Claim.status.in_(PENDING))
        ),
        ~exists().where(Payout.member_id == m, Payout.status != PayoutStatus.PAID.value),
        ~exists().where(
            Refund.status.in_(REFUNDS_OWED),
            Refund.payment_order_id == PaymentOrder.id,
            PaymentOrder.enrolment_id == Enrolment.id,
            Enrolment.member_id == m,
        ),
    ]


async def erasable(session: AsyncSession, cutoff: date, limit: int) -> list[uuid.UUID]:
    created_before = datetime.combine(cutoff, time(), tzinfo=SHANGHAI)
    query = (
        select(Member.id)
        .where(and_(*erasable_condition(cutoff, created_before)))
        .order_by(Member.id)
        .limit(limit)
    )
    return list((await session.scalars(query)).all())


def _gone(value: str) -> str:
    """A look-up hash that matches no one (64 hex, like the real ones, and unique)."""
    return hashlib.sha256(f"erased:{value}".encode()).hexdigest()


async def erase(
    session: AsyncSession, cipher: PersonalDataCipher, member_id: uuid.UUID, now: datetime
) -> None:
    """Erase one member, in the caller's transaction (the member's row locked first)."""
    member = await session.get(Member, member_id, with_for_update=True, populate_existing=True)
    assert member is not None
    nothing = {
        context: cipher.encrypt("", context=context)
        for context in (members.ID_NUMBER, members.NAME, members.PHONE)
    }
    member.id_number_hash = _gone(f"id:{member.id}")
    member.phone_hash = _gone(f"phone:{member.id}")
    member.id_number_cipher = nothing[members.ID_NUMBER]
    member.name_cipher = nothing[members.NAME]
    member.phone_cipher = nothing[members.PHONE]
    member.id_number_masked = member.name_masked = member.phone_masked = ERASED
    member.union_member_number = None
    member.died_on = None
    member.erased_at = now
    await session.execute(delete(PlatformWorker).where(PlatformWorker.member_id == member_id))
    await session.execute(
        update(Enrolment)
        .where(Enrolment.member_id == member_id)
        .values(name_cipher=nothing[members.NAME], phone_cipher=nothing[members.PHONE])
    )
    await session.execute(
        update(Claim)
        .where(Claim.member_id == member_id)
        .values(
            facts_cipher=Claim.facts.sealed({}, cipher),
            beneficiary_name_cipher=None,
            beneficiary_name_masked=None,
            beneficiary_id_number_cipher=None,
            beneficiary_id_number_masked=None,
            payee_account_kind=None,
            payee_account_cipher=None,
            payee_account_masked=None,
            appeal_grounds=None,
        )
    )
    await session.execute(
        update(ClaimDecision)
        .where(ClaimDecision.member_id == member_id)
        .values(
            facts_cipher=ClaimDecision.facts.sealed({}, cipher),
            lines_cipher=ClaimDecision.lines.sealed([], cipher),
            reasons_cipher=ClaimDecision.reasons.sealed([], cipher),
            note=None,
        )
    )
    await session.execute(
        update(PeriodUsage).where(PeriodUsage.member_id == member_id).values(died_on_cipher=None)
    )
    await session.execute(
        update(EventUsageRecord)
        .where(EventUsageRecord.member_id == member_id)
        .values(disability_grade_cipher=None)
    )
    await session.execute(
        update(Payout)
        .where(Payout.member_id == member_id)
        .values(account_cipher=None, account_masked=None)
    )
    await session.execute(
        delete(PayoutAccount).where(PayoutAccount.owner == accounts.member_owner(member_id))
    )
    await outbox.forget_member(session, member_id)
    record(
        session,
        Change(entity="member", entity_id=member_id, action="erased", client_id=None),
    )


async def erase_expired(runtime: Runtime) -> int:
    """Erase every member whose retention period has run out; how many. Nothing when the
    operator has set no retention period."""
    days = runtime.settings.retention_days
    if days is None:
        return 0
    cutoff = runtime.clock.today() - timedelta(days=days)
    erased = 0
    while True:
        async with runtime.db.writer() as session:
            found = await erasable(session, cutoff, BATCH)
            for member_id in found:
                await erase(session, runtime.cipher, member_id, runtime.clock.now())
            await session.commit()
        erased += len(found)
        if len(found) < BATCH:
            return erased
