"""The per-process API key cache and revocation through this process's API."""

from __future__ import annotations

import asyncio
import uuid

from app.clients import auth
from app.clients.caller_cache import CallerCache
from app.clients.keys import hash_api_key
from app.core.policy import Caller, Role
from tests.support.service import bearer


async def test_a_lookup_in_flight_during_a_revocation_does_not_bring_the_key_back(
    app, http, api_key, platforms, monkeypatch
):
    """Request A looks the key up (still active), then the key is revoked through the API in
    this process (forgotten at once and again after the response), then A stores the caller it
    read before the revocation. It must not be remembered: the revoked key gets 401 at once."""
    key = await api_key(Role.PLATFORM, "demo-delivery", "to-revoke")
    admin = bearer(await api_key(Role.ADMIN, None, "admin"))
    me = await http.get("/v1/clients/me", headers=bearer(key))
    client_id = me.json()["id"]
    # Forget what that request cached, so the next request looks the key up again.
    app.state.caller_cache._entries.clear()

    real = auth.caller_for_key
    looked_up, go_on = asyncio.Event(), asyncio.Event()

    async def slow_lookup(session, key_hash):
        caller = await real(session, key_hash)
        if key_hash == hash_api_key(key) and not looked_up.is_set():
            looked_up.set()
            await go_on.wait()  # a slow moment between the read and `cache.put`
        return caller

    monkeypatch.setattr(auth, "caller_for_key", slow_lookup)
    in_flight = asyncio.create_task(http.get("/v1/platform/webhooks", headers=bearer(key)))
    await looked_up.wait()
    revoked = await http.post(f"/v1/clients/{client_id}/revoke", headers=admin)
    go_on.set()
    await in_flight

    after = await http.get("/v1/platform/webhooks", headers=bearer(key))

    assert revoked.status_code == 200, revoked.text
    assert after.status_code == 401, after.text


async def test_requests_missing_the_same_key_at_once_share_one_lookup():
    """When a busy client's cached key expires, the requests in flight do not each take a
    database connection to look it up; a failed look-up fails them all alike, and one whose
    request went away leaves the others to look the key up themselves."""
    cache = CallerCache(ttl_seconds=5)
    caller = Caller(client_id=uuid.uuid4(), name="busy", role=Role.PLATFORM, org_code="p")
    calls: list[str] = []

    async def look_up() -> Caller:
        calls.append("looked up")
        await asyncio.sleep(0.02)
        return caller

    found = await asyncio.gather(*(cache.load("k", look_up) for _ in range(20)))

    assert found == [caller] * 20
    assert calls == ["looked up"]

    async def broken() -> Caller:
        await asyncio.sleep(0.02)
        raise ConnectionError("database down")

    failed = await asyncio.gather(
        *(cache.load("other", broken) for _ in range(3)), return_exceptions=True
    )
    assert [type(f) for f in failed] == [ConnectionError] * 3

    calls.clear()
    first = asyncio.create_task(cache.load("third", look_up))
    await asyncio.sleep(0)
    waiting = asyncio.create_task(cache.load("third", look_up))
    await asyncio.sleep(0)
    first.cancel()
    assert await waiting == caller
    assert calls == ["looked up", "looked up"]
