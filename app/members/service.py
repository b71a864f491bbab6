"""Creating and finding members. Identity goes in encrypted and comes out masked."""

from __future__ import annotations

import hmac
import unicodedata
import uuid
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.crypto import PersonalDataCipher
from app.core.errors import NotFound
from app.core.masking import mask_id_number, mask_name, mask_phone
from app.core.policy import Caller, Role, Tenant
from app.members.models import Member, PlatformWorker

ID_NUMBER = "member.id_number"
NAME = "member.name"
PHONE = "member.phone"


def normalise_phone(phone: str) -> str:
    """`+8613812345678` and `8613812345678` are `13812345678`."""
    digits = phone.strip().removeprefix("+")
    return digits[2:] if len(digits) == 13 and digits.startswith("86") else digits


@dataclass(frozen=True)
class Identity:
    id_number: str
    name: str
    phone: str


@dataclass(frozen=True, slots=True)
class SealedIdentity:
    """A person's identity as a member row stores it: encrypted, keyed-hashed for look-ups, and
    masked for answers. Sealed once, before any write transaction (encryption takes time)."""

    id_number_hash: str
    id_number_cipher: bytes
    id_number_masked: str
    name_cipher: bytes
    name_masked: str
    phone_hash: str
    phone_cipher: bytes
    phone_masked: str

    def columns(self) -> dict[str, str | bytes]:
        return {name: getattr(self, name) for name in self.__slots__}


def id_number_hash(cipher: PersonalDataCipher, id_number: str) -> str:
    return cipher.lookup_hash(id_number, context=ID_NUMBER)


def seal(cipher: PersonalDataCipher, identity: Identity) -> SealedIdentity:
    phone = normalise_phone(identity.phone)
    return SealedIdentity(
        id_number_hash=id_number_hash(cipher, identity.id_number),
        id_number_cipher=cipher.encrypt(identity.id_number, context=ID_NUMBER),
        id_number_masked=mask_id_number(identity.id_number),
        name_cipher=cipher.encrypt(identity.name, context=NAME),
        name_masked=mask_name(identity.name),
        phone_hash=cipher.lookup_hash(phone, context=PHONE),
        phone_cipher=cipher.encrypt(phone, context=PHONE),
        phone_masked=mask_phone(phone),
    )


async def find_by_id_number(
    session: AsyncSession, cipher: PersonalDataCipher, id_number: str
) -> Member | None:
    query = select(Member).where(Member.id_number_hash == id_number_hash(cipher, id_number))
    return (await session.scalars(query)).first()


async def find_by_identity(
    session: AsyncSession, cipher: PersonalDataCipher, id_number: str, name: str
) -> Member | None:
    """The member with this ID number AND this name; None otherwise.

    A right ID number with a wrong name is the same None as an unknown ID number, so the ID
    number alone tells a caller nothing, and it costs the same: a name is decrypted either
    way (a decoy's when no member has the number) and the two names are compared as keyed
    hashes, in constant time.
    """
    member = await find_by_id_number(session, cipher, id_number)
    stored = cipher.decrypt(member.name_cipher if member else _decoy(cipher), context=NAME)
    same = hmac.compare_digest(_name_key(cipher, stored), _name_key(cipher, name))
    return member if member is not None and same else None


def _name_key(cipher: PersonalDataCipher, name: str) -> bytes:
    """Names compare after Unicode compatibility normalisation, without surrounding spaces and
    case (residence-permit holders may have Latin names)."""
    normalised = unicodedata.normalize("NFKC", name).strip().casefold()
    return cipher.lookup_hash(normalised, context=NAME).encode()


@lru_cache(maxsize=4)
def _decoy(cipher: PersonalDataCipher) -> bytes:
    return cipher.encrypt("\x00", context=NAME)


async def platform_account_free(
    session: AsyncSession, member_id: uuid.UUID, platform_code: str, worker_id: str
) -> bool:
    """Whether the platform account is unlinked or already this member's."""
    link = await _link(session, platform_code, worker_id)
    return link is None or link.member_id == member_id


async def _link(session: AsyncSession, platform_code: str, worker_id: str) -> PlatformWorker | None:
    query = select(PlatformWorker).where(
        PlatformWorker.platform_code == platform_code,
        PlatformWorker.platform_worker_id == worker_id,
    )
    return (await session.scalars(query)).first()


def apply_contact(
    member: Member, cipher: PersonalDataCipher, name_cipher: bytes, phone_cipher: bytes
) -> None:
    """Take the contact details an application submitted (once it has become cover)."""
    name = cipher.decrypt(name_cipher, context=NAME)
    phone = normalise_phone(cipher.decrypt(phone_cipher, context=PHONE))
    member.name_cipher = cipher.encrypt(name, context=NAME)
    member.name_masked = mask_name(name)
    member.phone_cipher = cipher.encrypt(phone, context=PHONE)
    member.phone_hash = cipher.lookup_hash(phone, context=PHONE)
    member.phone_masked = mask_phone(phone)


def visible_member(caller: Caller, member: Member | None) -> Member:
    """Unions see their own members; another union's member is the same 404 as none."""
    if member is None or (
        caller.role is Role.UNION
        and not caller.sees(Tenant.union(member.union_org_code) if member.union_org_code else None)
    ):
        raise NotFound("member not found", code="member_not_found")
    return member
