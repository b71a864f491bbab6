"""Recently authenticated API keys, remembered for a few seconds in each process.

Every request needs its caller, and looking the key up is a transaction of its own: on the
hottest read paths (a platform asking about a worker) it would be half the database work. So a
process remembers a valid key's caller for `MUTUALAID_API_KEY_CACHE_SECONDS` (default 5; 0
turns it off). A key revoked through this process's API is forgotten at once; a key revoked
elsewhere (the CLI, another process) keeps working here for at most that long. Unknown keys are
never remembered, so a guessed key costs a look-up every time, as before.
"""

from __future__ import annotations

import time
import uuid
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
