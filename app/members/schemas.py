"""A member as answers show them: masked, never in clear."""

from __future__ import annotations

from app.core.schemas import ResponseModel
from app.members.models import Member


class MemberIdentity(ResponseModel):
    id_number_masked: str
    name_masked: str
    phone_masked: str

    @classmethod
    def of(cls, member: Member) -> MemberIdentity:
        return cls(
            id_number_masked=member.id_number_masked,
            name_masked=member.name_masked,
            phone_masked=member.phone_masked,
        )
