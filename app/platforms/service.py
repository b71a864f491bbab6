"""The registry of partner platforms, managed by admins (API) or operators (CLI)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import Change, record
from app.core import destinations
from app.core.config import Settings
from app.core.crypto import PersonalDataCipher
from app.core.errors import Conflict, NotFound, Unprocessable
from app.platforms.models import Platform
from app.platforms.schemas import PlatformIn, PlatformOut, PlatformUpdate
from app.platforms.verification import PlatformEndpoint
from app.rules.vocabulary import WORK_TYPES

CREDENTIAL_CONTEXT = "platform.credential"


def _check_work_types(work_types: list[str]) -> None:
    unknown = sorted(set(work_types) - WORK_TYPES)
    if unknown:
        raise Unprocessable(
            f"unknown work type(s): {', '.join(unknown)}", code="work_type_not_covered"
        )


async def check_verification_urls(settings: Settings, *urls: object) -> None:
    """In production, the URLs that receive workers' ID numbers and names obey the webhook URLs'
    guard (public HTTPS only: app.core.destinations); a development service may ask a simulator
    on this machine."""
    if not settings.is_production:
        return
    for url in urls:
        if url is None:
            continue
        try:
            await destinations.check(
                str(url),
                allow_private=False,
                resolve=destinations.system_resolver,
                kind="verification",
            )
        except destinations.DestinationRefused as exc:
            raise Unprocessable(str(exc), code=exc.code) from exc


async def add_platform(
    session: AsyncSession,
    cipher: PersonalDataCipher,
    data: PlatformIn,
    client_id: uuid.UUID | None,
) -> Platform:
    _check_work_types(data.work_types)
    if await session.get(Platform, data.code) is not None:
        raise Conflict(f"platform {data.code} exists", code="platform_exists")
    platform = Platform(
        code=data.code,
        name=data.name,
        work_types=sorted(set(data.work_types)),
        verify_url=str(data.verify_url),
        bulk_verify_url=str(data.bulk_verify_url) if data.bulk_verify_url else None,
        credential_cipher=(
            cipher.encrypt(data.credential, context=CREDENTIAL_CONTEXT) if data.credential else None
        ),
        enabled=True,
    )
    session.add(platform)
    await session.flush()
    record(
        session,
        Change(
            entity="platform",
            entity_id=platform.code,
            action="created",
            client_id=client_id,
            to_status="enabled",
        ),
    )
    return platform


async def update_platform(
    session: AsyncSession,
    cipher: PersonalDataCipher,
    code: str,
    data: PlatformUpdate,
    client_id: uuid.UUID | None,
) -> Platform:
    platform = await get_platform(session, code)
    before = "enabled" if platform.enabled else "disabled"
    if data.name is not None:
        platform.name = data.name
    if data.verify_url is not None:
        platform.verify_url = str(data.verify_url)
    if data.bulk_verify_url is not None:
        platform.bulk_verify_url = str(data.bulk_verify_url)
    if data.credential is not None:
        platform.credential_cipher = cipher.encrypt(data.credential, context=CREDENTIAL_CONTEXT)
    if data.enabled is not None:
        platform.enabled = data.enabled
    await session.flush()
    record(
        session,
        Change(
            entity="platform",
            entity_id=code,
            action="updated",
            client_id=client_id,
            from_status=before,
            to_status="enabled" if platform.enabled else "disabled",
            details={"fields": sorted(data.model_dump(exclude_none=True))},
        ),
    )
    return platform


async def get_platform(session: AsyncSession, code: str) -> Platform:
    platform = await session.get(Platform, code)
    if platform is None:
        raise NotFound(f"platform {code} not found", code="platform_not_found")
    return platform


async def list_platforms(session: AsyncSession) -> list[Platform]:
    return list((await session.scalars(select(Platform).order_by(Platform.code))).all())


def endpoint(platform: Platform, cipher: PersonalDataCipher) -> PlatformEndpoint:
    credential = (
        cipher.decrypt(platform.credential_cipher, context=CREDENTIAL_CONTEXT)
        if platform.credential_cipher
        else None
    )
    return PlatformEndpoint(
        platform.code, platform.verify_url, credential, platform.bulk_verify_url
    )


def out(platform: Platform) -> PlatformOut:
    return PlatformOut(
        code=platform.code,
        name=platform.name,
        work_types=list(platform.work_types),
        verify_url=platform.verify_url,
        bulk_verify_url=platform.bulk_verify_url,
        has_credential=platform.credential_cipher is not None,
        enabled=platform.enabled,
        created_at=platform.created_at,
    )
