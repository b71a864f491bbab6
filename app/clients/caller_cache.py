"""Recently authenticated API keys, remembered for a few seconds in each process.

Every request needs its caller, and looking the key up is a transaction of its own: on the
hottest read paths (a platform asking about a worker) it would be half the database work. So a
process remembers a valid key's caller for `MUTUALAID_API_KEY_CACHE_SECONDS` (default 5; 0
turns it off). A key revoked through this process's API is forgotten at once; a key revoked
elsewhere (the CLI, another process) keeps working here for at most that long. Unknown keys are
never remembered, so a guessed key costs a look-up every time, as before.

Requests that find the same key missing at the same moment share one look-up (`load`): when an
entry expires under load, the dozens of requests in flight for that client would otherwise
each take a database connection at once, open new ones beyond the pool, and wait for them,
every few seconds.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from app.core.policy import Caller

MAX_ENTRIES = 10_000


@dataclass
class CallerCache:
    ttl_seconds: float
    # Bumped by every revocation: a look-up that began before one must not be remembered, or
    # a key read as valid just before its revocation committed would come back.
    generation: int = 0
    _entries: dict[str, tuple[float, Caller]] = field(default_factory=dict)
    _loading: dict[str, asyncio.Future[Caller | None]] = field(default_factory=dict)

    async def load(
        self, key_hash: str, look_up: Callable[[], Awaitable[Caller | None]]
    ) -> Caller | None:
        """The remembered caller, or `look_up()`'s, shared with every request that asks for
        the same key while it runs (None for an unknown key)."""
        caller = self.get(key_hash)
        if caller is not None:
            return caller
        if (loading := self._loading.get(key_hash)) is not None:
            try:
                return await asyncio.shield(loading)
            except _LookUpGone:
                pass  # the request that looked it up went away first: look it up here
        return await self._look_up(key_hash, look_up)

    async def _look_up(
        self, key_hash: str, look_up: Callable[[], Awaitable[Caller | None]]
    ) -> Caller | None:
        generation = self.generation
        loading = self._loading[key_hash] = asyncio.get_running_loop().create_future()
        try:
            caller = await look_up()
        except BaseException as exc:
            # Those waiting get the failure (a database down is a 503 for all of them), but
            # not this request's cancellation, which is no answer about the key.
            failure = exc if isinstance(exc, Exception) else _LookUpGone()
            loading.set_exception(failure)
            loading.exception()  # retrieved: no "never retrieved" warning when none waits
            raise
        else:
            loading.set_result(caller)
            if caller is not None:
                self.put(key_hash, caller, generation)
            return caller
        finally:
            del self._loading[key_hash]

    def get(self, key_hash: str) -> Caller | None:
        entry = self._entries.get(key_hash)
        if entry is None:
            return None
        expires, caller = entry
        if time.monotonic() >= expires:
            self._entries.pop(key_hash, None)
            return None
        return caller

    def put(self, key_hash: str, caller: Caller, looked_up_at_generation: int) -> None:
        if self.ttl_seconds <= 0 or looked_up_at_generation != self.generation:
            return
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()  # crude, and rare: only valid keys get here
        self._entries[key_hash] = (time.monotonic() + self.ttl_seconds, caller)

    def forget_client(self, client_id: uuid.UUID) -> None:
        self.generation += 1
        for key_hash, (_, caller) in list(self._entries.items()):
            if caller.client_id == client_id:
                del self._entries[key_hash]


class _LookUpGone(Exception):
    """The request looking a key up was cancelled before it had an answer."""
