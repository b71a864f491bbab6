"""What use cases need from the process they run in, built once per process.

The API keeps one on `app.state.runtime`; `mutualaid worker` builds its own. Services take it
instead of reaching for globals, so a job handler and an endpoint run the same code.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from app.core import sealing
from app.core.clock import Clock
from app.core.config import Settings
from app.core.crypto import PersonalDataCipher
from app.core.db import Database
from app.core.outbound import outbound_client


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    db: Database
    cipher: PersonalDataCipher
    clock: Clock
    # Outbound calls (platform verification) share one connection pool per process.
    http: httpx.AsyncClient

    @classmethod
    def from_settings(cls, settings: Settings, db: Database | None = None) -> Runtime:
        database = db or Database.from_settings(settings)
        cipher = PersonalDataCipher.from_settings(settings)
        for sessions in (database.writer, database.reader):
            sealing.install(sessions, cipher)
        return cls(
            settings=settings,
            db=database,
            cipher=cipher,
            clock=Clock(settings.clock),
            http=outbound_client(),
        )

    async def close(self) -> None:
        await self.http.aclose()
        await self.db.dispose()
