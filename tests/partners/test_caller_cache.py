"""The per-process API key cache and revocation through this process's API."""

from __future__ import annotations

import asyncio

from app.clients import auth
from app.clients.keys import hash_api_key
from app.core.policy import Role
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
