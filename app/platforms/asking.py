"""The verifiers a use case asks platforms through, each behind its platform's breaker, built
from the process's settings: one indexed read of the breakers per application or chunk."""

from __future__ import annotations

import asyncio

from app.breakers.service import load
from app.core.runtime import Runtime
from app.platforms.verification import (
    BREAKER_PARTNER,
    PlatformEndpoint,
    Verifier,
    breaker_settings,
    verifier_settings,
)


async def for_one(runtime: Runtime, endpoint: PlatformEndpoint) -> Verifier:
    """To ask about one applicant, with the single call's limits and no deadline."""
    breakers = await load(
        runtime.db, BREAKER_PARTNER, [endpoint.code], breaker_settings(runtime.settings)
    )
    settings = verifier_settings(runtime.settings)
    return Verifier(runtime.http, endpoint, settings, breakers[endpoint.code])


async def for_many(
    runtime: Runtime, endpoints: list[PlatformEndpoint], budget_seconds: float
) -> dict[str, Verifier]:
    """To ask about a chunk's workers, by platform code: in bulk where offered (with the bulk
    call's limits), starting no call once `budget_seconds` have passed from now."""
    codes = [endpoint.code for endpoint in endpoints]
    breakers = await load(runtime.db, BREAKER_PARTNER, codes, breaker_settings(runtime.settings))
    deadline = asyncio.get_running_loop().time() + budget_seconds
    return {
        endpoint.code: Verifier(
            runtime.http,
            endpoint,
            verifier_settings(runtime.settings, bulk=endpoint.bulk_verify_url is not None),
            breakers[endpoint.code],
            deadline,
        )
        for endpoint in endpoints
    }
