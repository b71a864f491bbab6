"""Creating, listing, revoking and authenticating API clients. Every change to a client
(created, key rotated, revoked, rate limit changed) is on the audit trail, in its transaction."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import Change, record
from app.clients.keys import hash_api_key, new_api_key, shown_prefix
from app.clients.models import ApiClient
from app.core.clock import utc_now
from app.core.errors import NotFound, Unprocessable
from app.core.policy import BOUND_ROLES, Caller, Role

ORG_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class IssuedKey:
    """A new client and its key: the only moment the key exists in clear."""

    client: ApiClient
    api_key: str


def _check_binding(role: Role, org_code: str | None) -> None:
    if role in BOUND_ROLES and not org_code:
        raise Unprocessable(f"role {role} must be bound to an organisation", code="org_required")
    if role not in BOUND_ROLES and org_code:
        raise Unprocessable(f"role {role} is not bound to an organisation", code="org_not_allowed")
    if org_code and not ORG_CODE.match(org_code):
        raise Unprocessable(
            "organisation codes are 1-64 letters, digits, '.', '_' or '-'", code="invalid_org_code"
        )


async def create_client(
    session: AsyncSession,
    *,
    role: Role,
    name: str,
    org_code: str | None = None,
    rate_limit_per_second: int | None = None,
    actor: uuid.UUID | None = None,
) -> IssuedKey:
    """A new client and its key; `actor` is the admin client that asked (None: an operator at
    the command line), as for every change to a client below."""
    _check_binding(role, org_code)
    key = new_api_key()
    client = ApiClient(
        name=name,
        role=role.value,
        org_code=org_code,
        key_prefix=shown_prefix(key),
        key_hash=hash_api_key(key),
        rate_limit_per_second=rate_limit_per_second,
    )
    session.add(client)
    await session.flush()
    details = {
        "role": role.value,
        "org_code": org_code,
        "rate_limit_per_second": rate_limit_per_second,
    }
    _audit(session, client, "created", actor, details)
    return IssuedKey(client, key)


async def rotate_key(
    session: AsyncSession, client: ApiClient, actor: uuid.UUID | None = None
) -> IssuedKey:
    """Give an existing client a new key; the old one stops working at commit."""
    key = new_api_key()
    client.key_prefix = shown_prefix(key)
    client.key_hash = hash_api_key(key)
    client.revoked_at = None
    await session.flush()
    _audit(session, client, "key_rotated", actor)
    return IssuedKey(client, key)


async def list_clients(session: AsyncSession, *, include_revoked: bool = False) -> list[ApiClient]:
    query = select(ApiClient).order_by(ApiClient.created_at, ApiClient.id)
    if not include_revoked:
        query = query.where(ApiClient.revoked_at.is_(None))
    return list((await session.scalars(query)).all())


async def get_client(session: AsyncSession, client_id: uuid.UUID) -> ApiClient:
    client = await session.get(ApiClient, client_id)
    if client is None:
        raise NotFound("client not found")
    return client


async def find_client_by_name(session: AsyncSession, name: str) -> ApiClient | None:
    query = select(ApiClient).where(ApiClient.name == name).order_by(ApiClient.created_at)
    return (await session.scalars(query)).first()


async def revoke_client(
    session: AsyncSession, client_id: uuid.UUID, actor: uuid.UUID | None = None
) -> ApiClient:
    client = await get_client(session, client_id)
    if client.revoked_at is None:
        client.revoked_at = utc_now()
        await session.flush()
        _audit(session, client, "revoked", actor)
    return client


async def set_rate_limit(
    session: AsyncSession, client_id: uuid.UUID, rate: int | None, actor: uuid.UUID | None = None
) -> ApiClient:
    """A client's own request rate (None: its role's again)."""
    client = await get_client(session, client_id)
    before = client.rate_limit_per_second
    client.rate_limit_per_second = rate
    await session.flush()
    if before != rate:
        _audit(session, client, "rate_limit_changed", actor, {"from": before, "to": rate})
    return client


def _audit(
    session: AsyncSession,
    client: ApiClient,
    action: str,
    actor: uuid.UUID | None,
    details: dict[str, Any] | None = None,
) -> None:
    record(session, Change("api_client", client.id, action, actor, details=details))


async def caller_for_key(session: AsyncSession, key_hash: str) -> Caller | None:
    """The active client whose key hashes to `key_hash` (`keys.hash_api_key`), or None for an
    unknown or revoked key."""
    query = select(ApiClient).where(ApiClient.key_hash == key_hash, ApiClient.revoked_at.is_(None))
    client = (await session.scalars(query)).first()
    if client is None:
        return None
    return Caller(
        client_id=client.id,
        name=client.name,
        role=Role(client.role),
        org_code=client.org_code,
        rate_limit_per_second=client.rate_limit_per_second,
    )
