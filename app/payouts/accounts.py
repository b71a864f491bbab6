"""Payee accounts: sealed at rest, masked in every answer, opened only to instruct a transfer.

A member's account is set by the government app or the member's union; a district union's by the
operator (`mutualaid unions set-account`); a death beneficiary's comes with the claim.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Literal

from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import utc_now
from app.core.crypto import PersonalDataCipher
from app.core.masking import mask_name
from app.core.schemas import PersonName, RequestModel, Text
from app.payouts.models import PayoutAccount

ACCOUNT_CONTEXT = "payout.account"


class PayeeAccountIn(RequestModel):
    kind: Literal["bank", "alipay"]
    account_no: Text = Field(min_length=4, max_length=40, pattern=r"^[0-9A-Za-z@._+-]+$")
    holder_name: PersonName = Field(min_length=1, max_length=64)
    bank_name: Text | None = Field(default=None, max_length=64)


@dataclass(frozen=True, slots=True)
class Sealed:
    kind: str
    cipher: bytes
    masked: str


def mask_account(account: PayeeAccountIn) -> str:
    """`bank ****6789 张**`: enough for the holder to recognise it, nothing to pay into."""
    return f"{account.kind} ****{account.account_no[-4:]} {mask_name(account.holder_name)}"


def seal(cipher: PersonalDataCipher, account: PayeeAccountIn) -> Sealed:
    plain = account.model_dump_json()
    return Sealed(
        account.kind, cipher.encrypt(plain, context=ACCOUNT_CONTEXT), mask_account(account)
    )


def open_sealed(cipher: PersonalDataCipher, blob: bytes) -> PayeeAccountIn:
    return PayeeAccountIn.model_validate(json.loads(cipher.decrypt(blob, context=ACCOUNT_CONTEXT)))


def member_owner(member_id: uuid.UUID) -> str:
    return f"member:{member_id}"


def union_owner(org_code: str) -> str:
    return f"union:{org_code}"


async def store(
    session: AsyncSession, owner: str, sealed: Sealed, client_id: uuid.UUID | None
) -> PayoutAccount:
    """Set (or replace) an owner's account."""
    row = await session.get(PayoutAccount, owner, with_for_update=True)
    if row is None:
        row = PayoutAccount(owner=owner)
        session.add(row)
    row.kind = sealed.kind
    row.account_cipher = sealed.cipher
    row.account_masked = sealed.masked
    row.updated_at = utc_now()
    row.updated_by_client_id = client_id
    return row


async def stored(session: AsyncSession, owner: str) -> Sealed | None:
    row = await session.get(PayoutAccount, owner)
    if row is None:
        return None
    return Sealed(row.kind, row.account_cipher, row.account_masked)
