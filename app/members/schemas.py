"""A member as answers show them: masked, never in clear."""

from __future__ import annotations

from typing import Protocol

from app.core.schemas import ResponseModel


class Masked(Protocol):
    """A member row, or an identity sealed for one."""

    @property
    def id_number_masked(self) -> str: ...
    @property
    def name_masked(self) -> str: ...
    @property
    def phone_masked(self) -> str: ...


class MemberIdentity(ResponseModel):
    id_number_masked: str
    name_masked: str
    phone_masked: str

    @classmethod
    def of(cls, member: Masked) -> MemberIdentity:
        return cls(
            id_number_masked=member.id_number_masked,
            name_masked=member.name_masked,
            phone_masked=member.phone_masked,
        )
