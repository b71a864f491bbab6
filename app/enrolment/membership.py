"""Union membership as an individual application gives it (design section 10).

An applicant who joins the union through the app (`union.join`) names the Shanghai district
they work in (`work_district`, a GB/T 2260 code) and becomes a member of that district's union.
Membership only fills what is missing: a member already bound to a union keeps it, whatever a
later application or union batch says.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from app.core.errors import Unprocessable
from app.enrolment.schemas import EnrolmentIn
from app.enrolment.writer import NewMember
from app.members.districts import District, district
from app.members.models import Member


def work_district(body: EnrolmentIn) -> District | None:
    """The district the applicant named: required to join, one of Shanghai's 16 codes."""
    if body.work_district is None:
        if body.union.join:
            raise _refused(
                "work_district_required", "joining the union needs the district of the work"
            )
        return None
    named = district(body.work_district)
    if named is None:
        raise _refused(
            "work_district_unknown",
            "work_district must be the GB/T 2260 code of one of Shanghai's 16 districts",
        )
    return named


def _refused(code: str, detail: str) -> Unprocessable:
    return Unprocessable(
        detail,
        code=code,
        errors=[{"code": code, "field": "work_district", "location": "body", "message": detail}],
    )


def joined(
    member: NewMember, body: EnrolmentIn, named: District | None, now: datetime
) -> NewMember:
    """A new member: their union number, or joined now, a member of the district's union."""
    if body.union.member_number:
        return replace(member, union_member_number=body.union.member_number)
    assert named is not None  # `work_district` is required to join
    return replace(member, union_joined_at=now, union_org_code=named.union_org_code)


def join(member: Member, body: EnrolmentIn, named: District | None, now: datetime) -> None:
    """An existing member: what is missing is filled, nothing is rewritten."""
    if body.union.member_number and member.union_member_number is None:
        member.union_member_number = body.union.member_number
    elif body.union.join:
        if member.union_joined_at is None:
            member.union_joined_at = now
        if member.union_org_code is None and named is not None:
            member.union_org_code = named.union_org_code
            member.union_bound_at = now
