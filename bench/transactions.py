"""How long the service's transactions stay open, read from pg_stat_activity while a bench
runs: by kind of process (the connections' `application_name`: mutualaid-api,
mutualaid-worker, mutualaid-lookups), the oldest open transaction at each look and how many
connections sat idle inside a transaction. Used by `bench.soak`.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import asyncpg
from sqlalchemy.engine import make_url

EVERY_SECONDS = 0.25


@dataclass(frozen=True)
class Look:
    at: float  # time.monotonic()
    kind: str
    oldest_seconds: float
    idle_in_transaction: int
    # The oldest transaction's last statement, cut short (bench databases hold no real data).
    statement: str


@dataclass
class Watched:
    looks: list[Look] = field(default_factory=list)

    def worst(self, kind: str, when: Callable[[float], bool]) -> tuple[float, int, str]:
        """The oldest transaction (seconds) and its last statement, and the most connections
        idle in a transaction at once, of the looks at `kind` taken at a time `when` accepts."""
        chosen = [look for look in self.looks if look.kind == kind and when(look.at)]
        if not chosen:
            return 0.0, 0, ""
        oldest = max(chosen, key=lambda look: look.oldest_seconds)
        idle = max(look.idle_in_transaction for look in chosen)
        return oldest.oldest_seconds, idle, oldest.statement

    @property
    def kinds(self) -> list[str]:
        return sorted({look.kind for look in self.looks})


QUERY = """
SELECT application_name,
       max(extract(epoch FROM clock_timestamp() - xact_start))::float8,
       count(*) FILTER (WHERE state = 'idle in transaction'),
       (array_agg(left(regexp_replace(query, '\\s+', ' ', 'g'), 70) ORDER BY xact_start))[1]
FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid()
  AND application_name LIKE 'mutualaid-%' AND xact_start IS NOT NULL
GROUP BY application_name
"""


def watch(database_url: str, stop: threading.Event) -> tuple[threading.Thread, Watched]:
    """Look every quarter second until `stop` is set, in a thread of its own."""
    watched = Watched()
    url = make_url(database_url).set(drivername="postgresql")

    async def run() -> None:
        connection = await asyncpg.connect(url.render_as_string(hide_password=False))
        try:
            while not stop.is_set():
                now = time.monotonic()
                for kind, oldest, idle, statement in await connection.fetch(QUERY):
                    watched.looks.append(Look(now, kind, oldest, idle, statement))
                await asyncio.sleep(EVERY_SECONDS)
        finally:
            await connection.close()

    thread = threading.Thread(target=lambda: asyncio.run(run()), daemon=True)
    thread.start()
    return thread, watched
