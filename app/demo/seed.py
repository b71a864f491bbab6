"""Demo data so a newcomer can try every path from `/docs`: one API client per role, and a
partner platform answered by `mutualaid platform-sim` (port 8100 unless told, demo workers).

Running it again rotates the demo clients' keys (the old keys stop working), because keys are
stored only as hashes and cannot be shown twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.clients import service as clients
from app.core.crypto import PersonalDataCipher
from app.core.db import Database
from app.core.policy import Role
from app.platforms.models import Platform
from app.platforms.schemas import PlatformIn, PlatformUpdate
from app.platforms.service import add_platform, update_platform

DEMO_CLIENTS: tuple[tuple[str, Role, str | None], ...] = (
    ("demo-citizen-app", Role.CITIZEN_APP, None),
    ("demo-union-pudong", Role.UNION, "SH-PUDONG"),
    ("demo-platform-delivery", Role.PLATFORM, "demo-delivery"),
    ("demo-examiner", Role.EXAMINER, None),
    ("demo-finance", Role.FINANCE, None),
    ("demo-admin", Role.ADMIN, None),
)
PLATFORM_SIM_URL = "http://127.0.0.1:8100"


@dataclass(frozen=True)
class DemoKey:
    name: str
    role: str
    org_code: str | None
    api_key: str


def demo_platform(platform_sim_url: str = PLATFORM_SIM_URL) -> PlatformIn:
    base = platform_sim_url.rstrip("/")
    return PlatformIn(
        code="demo-delivery",
        name="Demo Delivery (platform-sim)",
        work_types=["food_delivery", "instant_delivery", "express_delivery", "ride_hailing"],
        verify_url=f"{base}/verify",
        bulk_verify_url=f"{base}/verify/bulk",
    )


DEMO_PLATFORM = demo_platform()


async def seed_demo(
    db: Database, cipher: PersonalDataCipher, platform_sim_url: str | None = None
) -> list[DemoKey]:
    """The demo clients (a new key for each) and the demo platform, asking the simulator at
    `platform_sim_url` (by default port 8100; an existing platform keeps its URLs unless one is
    given)."""
    keys: list[DemoKey] = []
    wanted = demo_platform(platform_sim_url or PLATFORM_SIM_URL)
    async with db.writer() as session:
        platform = await session.get(Platform, wanted.code)
        if platform is None:
            await add_platform(session, cipher, wanted, None)
        elif platform_sim_url and platform.verify_url != str(wanted.verify_url):
            moved = PlatformUpdate(
                verify_url=wanted.verify_url, bulk_verify_url=wanted.bulk_verify_url
            )
            await update_platform(session, cipher, wanted.code, moved, None)
        for name, role, org_code in DEMO_CLIENTS:
            existing = await clients.find_client_by_name(session, name)
            issued = (
                await clients.rotate_key(session, existing)
                if existing is not None
                else await clients.create_client(session, role=role, name=name, org_code=org_code)
            )
            keys.append(DemoKey(name, role.value, org_code, issued.api_key))
        await session.commit()
    return keys
