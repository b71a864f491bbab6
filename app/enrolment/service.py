"""Individual enrolment (the government-app path of design section 5).

1. Checks that need no outside call: plan, consent, the rules core's eligibility (ID number, age,
   city, work type, known platform), and whether the member already holds a share.
2. The platform's own API confirms the work, outside any write transaction (on SQLite a write
   transaction holds the whole database, and a platform may take seconds to answer).
3. One write transaction: member (created or refreshed), platform link, enrolment, audit.

Refusals at steps 1-2 store nothing and answer 422/409 with the failed checks. A platform that
cannot answer leads to `pending_review`: an examiner checks the uploaded proof.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import record
from app.core.errors import Conflict, NotFound, Unprocessable
from app.core.policy import Caller, Role
from app.core.runtime import Runtime
from app.coverage.models import CoveragePeriodRecord
from app.enrolment.models import OPEN_STATUSES, Enrolment, EnrolmentStatus
from app.enrolment.schemas import Check, EnrolmentIn, EnrolmentOut
from app.members import service as members
from app.members.models import Member
from app.members.schemas import MemberIdentity
from app.plans import get_plan
from app.platforms import service as platforms
from app.platforms.models import Platform
from app.platforms.verification import Unavailable, verifier_settings, verify_worker
from app.rules.coverage import CoveragePeriod, application_expired, share_blocker
from app.rules.eligibility import (
    DEFAULT_WORK_CITY,
    Applicant,
    Failure,
    check_applicant,
    check_platform_work,
)
from app.rules.id_numbers import normalise
from app.rules.plan import Plan

_FIELD_OF = {
    "invalid_id_number": "id_number",
    "legacy_id_number": "id_number",
    "age_limit": "id_number",
    "age_below_minimum": "id_number",
    "work_city_not_covered": "work_city",
    "work_type_not_covered": "work_type",
    "platform_unknown": "platform_code",
    "platform_work_not_verified": "platform_worker_id",
}


def refused(failures: list[Failure]) -> Unprocessable:
    first = failures[0]
    return Unprocessable(
        first.detail,
        code=first.code,
        errors=[
            {
                "code": f.code,
                "field": _FIELD_OF.get(f.code, "body"),
                "location": "body",
                "message": f.detail,
            }
            for f in failures
        ],
    )


async def _existing_share(
    session: AsyncSession, plan: Plan, member: Member, today: date
) -> str | None:
    """Why this member may not enrol again now, or None (an expired open application is marked
    expired when the new one is stored)."""
    open_applied_on = (
        await session.scalars(
            select(Enrolment.applied_on).where(
                Enrolment.member_id == member.id, Enrolment.status.in_(OPEN_STATUSES)
            )
        )
    ).all()
    rows = (
        await session.scalars(
            select(CoveragePeriodRecord).where(CoveragePeriodRecord.member_id == member.id)
        )
    ).all()
    periods = [CoveragePeriod(r.starts_on, r.ends_on, r.continues_previous) for r in rows]
    return share_blocker(plan, open_applied_on, periods, today)


async def apply(
    runtime: Runtime, session: AsyncSession, caller: Caller, body: EnrolmentIn
) -> EnrolmentOut:
    plan = get_plan(body.plan_code)
    if plan is None:
        raise Unprocessable(f"no plan {body.plan_code!r}", code="plan_unknown")
    if not body.consent.sensitive_personal_data:
        raise Unprocessable(
            "separate consent to process sensitive personal data is required",
            code="consent_required",
        )
    today = runtime.clock.today()
    id_number = normalise(body.id_number)
    cipher = runtime.cipher

    async with runtime.db.reader() as reader:
        platform = await reader.get(Platform, body.platform_code)
        known = platform is not None and platform.enabled
        applicant = Applicant(id_number, body.work_city or DEFAULT_WORK_CITY, body.work_type, known)
        failures = check_applicant(plan, applicant, today)
        if known and body.work_type not in (platform.work_types if platform else []):
            failures.append(
                Failure(
                    "work_type_not_covered",
                    f"{body.platform_code} does not register this work type",
                )
            )
        if failures:
            raise refused(failures)
        assert platform is not None
        existing = await members.find_by_id_number(reader, cipher, id_number)
        if existing is not None and (why := await _existing_share(reader, plan, existing, today)):
            raise Conflict(why, code="already_enrolled")
        endpoint = platforms.endpoint(platform, cipher)

    checks = [Check(code="eligibility", passed=True)]
    if not plan.eligibility.platform_verification_required.value:
        checks.append(Check(code="platform_work", passed=True, detail="not required by the plan"))
        return await _store(
            runtime,
            session,
            caller,
            body,
            plan,
            id_number,
            today,
            EnrolmentStatus.AWAITING_PAYMENT,
            checks,
        )
    work = await verify_worker(
        runtime.http,
        endpoint,
        platform_worker_id=body.platform_worker_id,
        id_number=id_number,
        name=body.name,
        settings=verifier_settings(runtime.settings),
    )
    if isinstance(work, Unavailable):
        status = EnrolmentStatus.PENDING_REVIEW
        checks.append(
            Check(
                code="platform_work",
                passed=False,
                detail=f"platform could not verify: {work.reason}",
            )
        )
    else:
        platform_failures = check_platform_work(plan, work, body.work_type, runtime.clock.now())
        if platform_failures:
            raise refused(platform_failures)
        status = EnrolmentStatus.AWAITING_PAYMENT
        checks.append(Check(code="platform_work", passed=True))

    return await _store(runtime, session, caller, body, plan, id_number, today, status, checks)


@asynccontextmanager
async def _one_application_per_person(session: AsyncSession) -> AsyncIterator[None]:
    """A concurrent application for the same person hits a unique key (the ID number's hash, or
    one open application per member) inside this savepoint: that is a 409, not a 500."""
    try:
        async with session.begin_nested():
            yield
    except IntegrityError as exc:
        raise Conflict(
            "another application for this person was just made", code="already_enrolled"
        ) from exc


async def _store(
    runtime: Runtime,
    session: AsyncSession,
    caller: Caller,
    body: EnrolmentIn,
    plan: Plan,
    id_number: str,
    today: date,
    status: EnrolmentStatus,
    checks: list[Check],
) -> EnrolmentOut:
    """Write the application: member, enrolment and audit, in one savepoint."""
    async with _one_application_per_person(session):
        cipher, now = runtime.cipher, runtime.clock.now()
        member = await members.find_by_id_number(session, cipher, id_number)
        if member is None:
            member = members.new_member(
                cipher, members.Identity(id_number, body.name, body.phone), now
            )
            session.add(member)
            await session.flush()
            await record(
                session,
                entity="member",
                entity_id=member.id,
                action="created",
                client_id=caller.client_id,
            )
        elif why := await _existing_share(session, plan, member, today):  # lost a race
            raise Conflict(why, code="already_enrolled")
        else:
            await _expire_stale(session, caller, plan, member, today)
        # Union membership only fills what is missing: an application never rewrites a member.
        if body.union.member_number and member.union_member_number is None:
            member.union_member_number = body.union.member_number
        elif body.union.join and member.union_joined_at is None:
            member.union_joined_at = now
        if not await members.platform_account_free(
            session, member, body.platform_code, body.platform_worker_id
        ):
            raise Conflict(
                "this platform account belongs to another member", code="platform_worker_taken"
            )
        enrolment = Enrolment(
            id=uuid.uuid4(),
            member_id=member.id,
            plan_code=plan.code,
            plan_version=plan.version,
            channel="individual",
            status=status.value,
            platform_code=body.platform_code,
            platform_worker_id=body.platform_worker_id,
            work_type=body.work_type,
            work_city=body.work_city or DEFAULT_WORK_CITY,
            applied_on=today,
            checks=[c.model_dump() for c in checks],
            created_by_client_id=caller.client_id,
            name_cipher=cipher.encrypt(body.name, context=members.NAME),
            phone_cipher=cipher.encrypt(members.normalise_phone(body.phone), context=members.PHONE),
        )
        session.add(enrolment)
        await session.flush()
        await record(
            session,
            entity="enrolment",
            entity_id=enrolment.id,
            action="created",
            client_id=caller.client_id,
            to_status=status.value,
            details={
                "union": "member_number" if body.union.member_number else "joined",
                "member_id": str(member.id),
            },
        )
        return out(enrolment, member)


async def _expire_stale(
    session: AsyncSession, caller: Caller, plan: Plan, member: Member, today: date
) -> None:
    open_rows = (
        await session.execute(
            select(Enrolment.id, Enrolment.applied_on).where(
                Enrolment.member_id == member.id, Enrolment.status.in_(OPEN_STATUSES)
            )
        )
    ).all()
    stale = [i for i, applied_on in open_rows if application_expired(plan, applied_on, today)]
    await expire_applications(session, stale, caller.client_id)


async def expire_applications(
    session: AsyncSession,
    enrolment_ids: list[uuid.UUID],
    client_id: uuid.UUID | None,
    details: dict[str, str] | None = None,
) -> list[uuid.UUID]:
    """Mark these applications expired if they are still open, with an audit event each; the
    ones that were not open (just paid, say) are left as they are. Returns those expired."""
    if not enrolment_ids:
        return []
    expired = list(
        (
            await session.scalars(
                update(Enrolment)
                .where(Enrolment.id.in_(sorted(enrolment_ids)), Enrolment.status.in_(OPEN_STATUSES))
                .values(status=EnrolmentStatus.EXPIRED.value)
                .returning(Enrolment.id)
                .execution_options(synchronize_session=False)
            )
        ).all()
    )
    for enrolment_id in expired:
        await record(
            session,
            entity="enrolment",
            entity_id=enrolment_id,
            action="expired",
            client_id=client_id,
            to_status=EnrolmentStatus.EXPIRED.value,
            details=details,
        )
    return expired


def out(enrolment: Enrolment, member: Member) -> EnrolmentOut:
    return EnrolmentOut(
        id=enrolment.id,
        status=enrolment.status,
        member_id=member.id,
        plan_code=enrolment.plan_code,
        plan_version=enrolment.plan_version,
        applied_on=enrolment.applied_on,
        platform_code=enrolment.platform_code,
        platform_worker_id=enrolment.platform_worker_id,
        work_type=enrolment.work_type,
        checks=[Check.model_validate(c) for c in enrolment.checks],
        member=MemberIdentity.of(member),
        review_note=enrolment.review_note,
        created_at=enrolment.created_at,
    )


async def get(session: AsyncSession, caller: Caller, enrolment_id: uuid.UUID) -> EnrolmentOut:
    """The citizen app sees the applications it filed; examiners see all."""
    enrolment = await session.get(Enrolment, enrolment_id)
    if enrolment is None or (
        caller.role is Role.CITIZEN_APP and enrolment.created_by_client_id != caller.client_id
    ):
        raise NotFound("enrolment not found", code="enrolment_not_found")
    member = await session.get(Member, enrolment.member_id)
    assert member is not None
    return out(enrolment, member)
