"""Individual enrolment (the government-app path of design section 5).

1. Checks that need no outside call: plan, consent, the plan version in force on the first day
   cover could start (tomorrow, or the day after the current period for a renewal), the rules
   core's eligibility under that version (ID number, age, city, work type, known platform), a
   recorded death (`member_deceased`), and whether the member already holds a share.
2. The platform's own API confirms the work, outside any write transaction (on SQLite a write
   transaction holds the whole database, and a platform may take seconds to answer).
3. One write transaction: member (created, or its missing union details filled), enrolment,
   audit, through the writer every way in shares (`app.enrolment.writer`).

Refusals at steps 1-2 store nothing and answer 422/409 with the failed checks. A platform that
cannot answer leads to `pending_review`: an examiner checks the uploaded proof.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app import plans
from app.audit.service import Change, record
from app.core.clock import utc_now
from app.core.errors import Conflict, NotFound, Unprocessable
from app.core.policy import Caller, Role
from app.core.runtime import Runtime
from app.enrolment import membership, writer
from app.enrolment.models import Enrolment, EnrolmentStatus
from app.enrolment.schemas import Check, EnrolmentIn, EnrolmentOut
from app.enrolment.shares import expire_applications, latest_period, share_of
from app.enrolment.writer import NewApplication, NewMember
from app.members import service as members
from app.members.districts import District
from app.members.models import Member
from app.members.schemas import MemberIdentity
from app.notifications.events import application_outcome
from app.notifications.outbox import notify
from app.platforms import asking
from app.platforms import service as platforms
from app.platforms.models import Platform
from app.platforms.verification import PlatformEndpoint, Unavailable, WorkerToVerify
from app.rules.coverage import period_for_payment
from app.rules.eligibility import (
    DEFAULT_WORK_CITY,
    Applicant,
    Failure,
    check_applicant,
    check_first_day_age,
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


async def apply(
    runtime: Runtime, session: AsyncSession, caller: Caller, body: EnrolmentIn
) -> EnrolmentOut:
    if not plans.versions(body.plan_code):
        raise Unprocessable(f"no plan {body.plan_code!r}", code="plan_unknown")
    if not body.consent.sensitive_personal_data:
        raise Unprocessable(
            "separate consent to process sensitive personal data is required",
            code="consent_required",
        )
    named = membership.work_district(body)
    application, endpoint = await _check_without_platform(
        runtime, body, normalise(body.id_number), runtime.clock.today()
    )
    application = replace(application, district=named)
    plan = application.plan
    if not plan.eligibility.platform_verification_required.value:
        checks = [
            Check(code="eligibility", passed=True),
            Check(code="platform_work", passed=True, detail="not required by the plan"),
        ]
        return await _store(
            runtime, session, caller, application.decided(EnrolmentStatus.AWAITING_PAYMENT, checks)
        )
    verifier = await asking.for_one(runtime, endpoint)
    work = await verifier.one(
        WorkerToVerify(body.platform_worker_id, application.id_number, body.name)
    )
    checks = [Check(code="eligibility", passed=True)]
    if isinstance(work, Unavailable):
        status = EnrolmentStatus.PENDING_REVIEW
        detail = f"platform could not verify: {work.reason}"
        checks.append(Check(code="platform_work", passed=False, detail=detail))
    else:
        platform_failures = check_platform_work(plan, work, body.work_type, runtime.clock.now())
        if platform_failures:
            raise refused(platform_failures)
        status = EnrolmentStatus.AWAITING_PAYMENT
        checks.append(Check(code="platform_work", passed=True))
    return await _store(runtime, session, caller, application.decided(status, checks))


@dataclass(frozen=True)
class _Application:
    body: EnrolmentIn
    plan: Plan
    id_number: str
    today: date
    status: EnrolmentStatus = EnrolmentStatus.PENDING_REVIEW
    checks: tuple[Check, ...] = ()
    district: District | None = None

    def decided(self, status: EnrolmentStatus, checks: list[Check]) -> _Application:
        return replace(self, status=status, checks=tuple(checks))


async def _check_without_platform(
    runtime: Runtime, body: EnrolmentIn, id_number: str, today: date
) -> tuple[_Application, PlatformEndpoint]:
    """Every check that needs no outside call (a death, the version, eligibility, an existing
    share), in a read transaction; the application under its version, and the platform's endpoint to
    verify the work with."""
    async with runtime.db.reader() as reader:
        existing = await members.find_by_id_number(reader, runtime.cipher, id_number)
        if existing is not None and existing.died_on is not None:
            raise _deceased()
        latest = await latest_period(reader, existing.id) if existing is not None else None
        plan = plans.book().for_payment_on(body.plan_code, today, latest)
        if plan is None:
            raise Unprocessable(
                f"no version of {body.plan_code!r} is in force when cover would start",
                code="plan_not_in_force",
            )
        platform = await reader.get(Platform, body.platform_code)
        known = platform is not None and platform.enabled
        work_city = body.work_city or DEFAULT_WORK_CITY
        applicant = Applicant(id_number, work_city, body.work_type, known)
        failures = check_applicant(plan, applicant, today)
        renewal = period_for_payment(plan, today, latest)
        if renewal.continues_previous and not any(f.code == "age_limit" for f in failures):
            failures += check_first_day_age(plan, id_number, renewal.starts_on)
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
        if existing is not None:
            share = await share_of(reader, plan, existing.id, today)
            if share.blocker:
                raise Conflict(share.blocker, code="already_enrolled")
        application = _Application(body, plan, id_number, today)
        return application, platforms.endpoint(platform, runtime.cipher)


def _deceased() -> Conflict:
    """Design section 9: a member whose death is recorded cannot apply again (a premium paid
    for them would only be refunded)."""
    return Conflict("this member's death is recorded", code="member_deceased")


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
    runtime: Runtime, session: AsyncSession, caller: Caller, application: _Application
) -> EnrolmentOut:
    """Write the application: member (new, or the existing one's missing union details),
    enrolment and audit, in one savepoint."""
    body, cipher, now = application.body, runtime.cipher, runtime.clock.now()
    async with _one_application_per_person(session):
        member = await members.find_by_id_number(session, cipher, application.id_number)
        if member is None:
            identity = members.seal(
                cipher, members.Identity(application.id_number, body.name, body.phone)
            )
            new = NewMember(uuid.uuid4(), identity, consent_at=now, created_at=utc_now())
            new = membership.joined(new, body, application.district, now)
            await writer.write(session, [new], [])
            record(
                session,
                Change(
                    entity="member", entity_id=new.id, action="created", client_id=caller.client_id
                ),
            )
            member_id, shown = new.id, MemberIdentity.of(identity)
        else:
            await _renew_share(session, caller, application, member)
            membership.join(member, body, application.district, now)
            member_id, shown = member.id, MemberIdentity.of(member)
        if not await members.platform_account_free(
            session, member_id, body.platform_code, body.platform_worker_id
        ):
            raise Conflict(
                "this platform account belongs to another member", code="platform_worker_taken"
            )
        enrolment = _new_application(runtime, caller, application, member_id, now)
        await writer.write(session, [], [enrolment])
        record(
            session,
            Change(
                entity="enrolment",
                entity_id=enrolment.id,
                action="created",
                client_id=caller.client_id,
                to_status=enrolment.status,
                details={
                    "union": "member_number" if body.union.member_number else "joined",
                    "member_id": str(member_id),
                },
            ),
        )
        await notify(session, application_outcome(member_id, enrolment.id, enrolment.status))
        return out(enrolment, shown)


async def _renew_share(
    session: AsyncSession, caller: Caller, application: _Application, member: Member
) -> None:
    """An existing member may apply again: not after a recorded death, not while holding a share
    (a death or a concurrent application may have been recorded since the first look), and stale
    applications expire now."""
    if member.died_on is not None:
        raise _deceased()
    share = await share_of(session, application.plan, member.id, application.today)
    if share.blocker:
        raise Conflict(share.blocker, code="already_enrolled")
    await expire_applications(session, share.stale_applications, caller.client_id)


def _new_application(
    runtime: Runtime,
    caller: Caller,
    application: _Application,
    member_id: uuid.UUID,
    now: datetime,
) -> NewApplication:
    body, cipher = application.body, runtime.cipher
    return NewApplication(
        id=uuid.uuid4(),
        member_id=member_id,
        plan_code=application.plan.code,
        plan_version=application.plan.version,
        channel="individual",
        status=application.status.value,
        platform_code=body.platform_code,
        platform_worker_id=body.platform_worker_id,
        work_type=body.work_type,
        work_city=body.work_city or DEFAULT_WORK_CITY,
        work_district=application.district.code if application.district else None,
        applied_on=application.today,
        checks=[c.model_dump() for c in application.checks],
        name_cipher=cipher.encrypt(body.name, context=members.NAME),
        phone_cipher=cipher.encrypt(members.normalise_phone(body.phone), context=members.PHONE),
        created_by_client_id=caller.client_id,
        created_at=utc_now(),  # a record's time is the wall clock's, even when the rules' is fixed
    )


def out(enrolment: Enrolment | NewApplication, member: MemberIdentity) -> EnrolmentOut:
    return EnrolmentOut(
        id=enrolment.id,
        status=enrolment.status,
        member_id=enrolment.member_id,
        plan_code=enrolment.plan_code,
        plan_version=enrolment.plan_version,
        applied_on=enrolment.applied_on,
        platform_code=enrolment.platform_code,
        platform_worker_id=enrolment.platform_worker_id,
        work_type=enrolment.work_type,
        work_district=enrolment.work_district,
        checks=[Check.model_validate(c) for c in enrolment.checks],
        member=member,
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
    return out(enrolment, MemberIdentity.of(member))
