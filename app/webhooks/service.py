"""A platform's webhook endpoints: register, list, remove, rotate the signing secret.

Each endpoint belongs to the platform whose client registered it; another platform's endpoint
is the same 404 as one that does not exist.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import Change, record
from app.core import destinations
from app.core.clock import utc_now
from app.core.config import Settings
from app.core.crypto import PersonalDataCipher
from app.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from app.platforms.models import Platform
from app.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from app.webhooks.schemas import EndpointIn, EndpointOut, EndpointWithSecret

SECRET_CONTEXT = "webhook.secret"  # noqa: S105 - an encryption context label, not a secret
MAX_ENDPOINTS = 5


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def signing_secrets(
    endpoint: WebhookEndpoint, cipher: PersonalDataCipher, now: datetime
) -> list[bytes]:
    """The current secret, and the previous one while its overlap lasts."""
    keys = [cipher.decrypt(endpoint.secret_cipher, context=SECRET_CONTEXT).encode()]
    if (
        endpoint.previous_secret_cipher is not None
        and endpoint.previous_secret_expires_at is not None
        and now < endpoint.previous_secret_expires_at
    ):
        keys.append(
            cipher.decrypt(endpoint.previous_secret_cipher, context=SECRET_CONTEXT).encode()
        )
    return keys


def out(endpoint: WebhookEndpoint, now: datetime) -> EndpointOut:
    until = endpoint.previous_secret_expires_at
    return EndpointOut(
        id=endpoint.id,
        url=endpoint.url,
        description=endpoint.description,
        created_at=endpoint.created_at,
        secret_rotated_until=until if until is not None and until > now else None,
    )


async def register(
    session: AsyncSession,
    cipher: PersonalDataCipher,
    settings: Settings,
    platform_code: str,
    data: EndpointIn,
    client_id: uuid.UUID,
) -> EndpointWithSecret:
    try:
        checked = await destinations.check(
            data.url,
            allow_private=settings.webhook_allow_private_urls,
            resolve=destinations.system_resolver,
        )
    except destinations.DestinationRefused as exc:
        raise Unprocessable(str(exc), code=exc.code) from exc
    url = str(checked.url)
    # The platform's row, locked: registrations for one platform take turns, so neither the
    # one-URL-once rule nor the limit can be raced past.
    platform = (
        await session.scalars(
            select(Platform).where(Platform.code == platform_code).with_for_update()
        )
    ).first()
    if platform is None:  # a platform client bound to a code no platform has
        raise Forbidden("this client is bound to an unknown platform", code="platform_unknown")
    active = select(WebhookEndpoint).where(
        WebhookEndpoint.platform_code == platform_code, WebhookEndpoint.disabled_at.is_(None)
    )
    if (await session.scalars(active.where(WebhookEndpoint.url == url))).first() is not None:
        raise Conflict("this URL is already registered", code="webhook_exists")
    count = await session.scalar(select(func.count()).select_from(active.subquery()))
    if (count or 0) >= MAX_ENDPOINTS:
        raise Conflict(
            f"a platform may have at most {MAX_ENDPOINTS} endpoints", code="webhook_limit_reached"
        )
    secret = new_secret()
    endpoint = WebhookEndpoint(
        id=uuid.uuid4(),
        platform_code=platform_code,
        url=url,
        description=data.description,
        secret_cipher=cipher.encrypt(secret, context=SECRET_CONTEXT),
        created_by_client_id=client_id,
        created_at=utc_now(),
    )
    session.add(endpoint)
    await session.flush()
    record(
        session,
        Change(
            entity="webhook_endpoint",
            entity_id=endpoint.id,
            action="registered",
            client_id=client_id,
            to_status="active",
            details={"platform_code": platform_code},
        ),
    )
    return EndpointWithSecret(**out(endpoint, utc_now()).model_dump(), secret=secret)


async def owned(
    session: AsyncSession, platform_code: str, endpoint_id: uuid.UUID, *, lock: bool = False
) -> WebhookEndpoint:
    query = select(WebhookEndpoint).where(
        WebhookEndpoint.id == endpoint_id,
        WebhookEndpoint.platform_code == platform_code,
        WebhookEndpoint.disabled_at.is_(None),
    )
    endpoint = (await session.scalars(query.with_for_update() if lock else query)).first()
    if endpoint is None:
        raise NotFound("webhook endpoint not found", code="webhook_not_found")
    return endpoint


async def list_endpoints(session: AsyncSession, platform_code: str) -> list[WebhookEndpoint]:
    query = (
        select(WebhookEndpoint)
        .where(
            WebhookEndpoint.platform_code == platform_code, WebhookEndpoint.disabled_at.is_(None)
        )
        .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
    )
    return list((await session.scalars(query)).all())


async def remove(
    session: AsyncSession, platform_code: str, endpoint_id: uuid.UUID, client_id: uuid.UUID
) -> None:
    """Stop sending to the endpoint; deliveries still waiting for it are cancelled."""
    endpoint = await owned(session, platform_code, endpoint_id, lock=True)
    now = utc_now()
    endpoint.disabled_at = now
    await session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.endpoint_id == endpoint.id,
            WebhookDelivery.status == DeliveryStatus.PENDING.value,
        )
        .values(status=DeliveryStatus.CANCELLED.value, finished_at=now)
    )
    record(
        session,
        Change(
            entity="webhook_endpoint",
            entity_id=endpoint.id,
            action="removed",
            client_id=client_id,
            from_status="active",
            to_status="removed",
        ),
    )


async def rotate_secret(
    session: AsyncSession,
    cipher: PersonalDataCipher,
    settings: Settings,
    platform_code: str,
    endpoint_id: uuid.UUID,
    client_id: uuid.UUID,
) -> EndpointWithSecret:
    """A new secret at once; the old one keeps signing beside it for the overlap, so the
    platform can switch its receiver without losing an event."""
    endpoint = await owned(session, platform_code, endpoint_id, lock=True)
    now = utc_now()
    secret = new_secret()
    endpoint.previous_secret_cipher = endpoint.secret_cipher
    endpoint.previous_secret_expires_at = now + timedelta(
        hours=settings.webhook_secret_overlap_hours
    )
    endpoint.secret_cipher = cipher.encrypt(secret, context=SECRET_CONTEXT)
    record(
        session,
        Change(
            entity="webhook_endpoint",
            entity_id=endpoint.id,
            action="secret_rotated",
            client_id=client_id,
        ),
    )
    return EndpointWithSecret(**out(endpoint, now).model_dump(), secret=secret)
