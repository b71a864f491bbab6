"""Union membership from an application: the district named binds a member who has no union
yet, and never moves one who has (design section 10). Pure: no database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.core.errors import Unprocessable
from app.enrolment.membership import join, work_district
from app.enrolment.schemas import EnrolmentIn
from app.members.districts import DISTRICTS, district
from app.members.models import Member
from tests.support.enrolment import application

EARLIER = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def body(**changes) -> EnrolmentIn:
    return EnrolmentIn.model_validate(application(**changes))


def test_the_sixteen_districts_each_have_their_own_union():
    assert len(DISTRICTS) == 16
    assert len({d.code for d in DISTRICTS}) == len({d.union_org_code for d in DISTRICTS}) == 16
    assert district("310104").name == "徐汇区"
    assert district("310104").union_org_code == "SH-XUHUI"
    assert district("310115").union_org_code == "SH-PUDONG"
    assert district("310100") is None


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"work_district": None}, "work_district_required"),
        ({"work_district": "310199"}, "work_district_unknown"),
        ({"work_district": "xuhui"}, "work_district_unknown"),
    ],
)
def test_joining_names_one_of_the_districts(changes, code):
    with pytest.raises(Unprocessable) as refused:
        work_district(body(**changes))
    assert refused.value.instance_code == code


def test_a_member_without_a_union_is_bound_to_the_district_named():
    member = Member(union_org_code=None, union_bound_at=None, union_joined_at=None)
    join(member, body(work_district="310104"), district("310104"), NOW)
    assert (member.union_org_code, member.union_bound_at, member.union_joined_at) == (
        "SH-XUHUI",
        NOW,
        NOW,
    )


def test_a_member_bound_to_a_union_keeps_it():
    member = Member(union_org_code="SH-XUHUI", union_bound_at=EARLIER, union_joined_at=EARLIER)
    join(member, body(work_district="310115"), district("310115"), NOW)
    assert (member.union_org_code, member.union_bound_at, member.union_joined_at) == (
        "SH-XUHUI",
        EARLIER,
        EARLIER,
    )
