"""Authentication (`Authorization: Bearer <key>`) and the named authorisation dependencies.

Every route declares the action it performs with `Authorized(Action.X)`; the role table in
`app.core.policy` decides. Missing or unknown key: 401. Known key, wrong role: 403.

The key is looked up in a short read-only session of its own, not in the request's transaction:
on SQLite a write request's transaction takes the database write lock, and that must not happen
before the idempotency key is claimed (see `app.idempotency`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.clients.caller_cache import CallerCache
from app.clients.keys import hash_api_key
from app.clients.rate_limit import RateLimiter
from app.clients.service import caller_for_key
from app.core.db import Database
from app.core.errors import Forbidden, TooManyRequests, Unauthorized
from app.core.policy import Action, Caller, allowed
from app.core.request_context import set_client_id

bearer = HTTPBearer(auto_error=False, description="API key issued by `mutualaid clients create`")
_MAX_KEY_LENGTH = 200


Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


async def authenticate(request: Request, credentials: Credentials) -> Caller:
    return await _authenticated(request, credentials)


CurrentCaller = Annotated[Caller, Depends(authenticate)]


def _require(action: Action) -> Any:
    # Authenticates itself rather than depending on `authenticate`: one dependency fewer to
    # resolve on every request, the most frequent ones included.
    async def dependency(request: Request, credentials: Credentials) -> Caller:
        caller = await _authenticated(request, credentials)
        if not allowed(caller.role, action):
            raise Forbidden(f"role {caller.role} may not perform {action}")
        return caller

    dependency.__name__ = f"require_{action.value.replace('.', '_')}"
    return dependency


async def _authenticated(
    request: Request, credentials: HTTPAuthorizationCredentials | None
) -> Caller:
    """The request's caller, found once: a route that needs both `CurrentCaller` and
    `Authorized` costs one look-up and one token of the rate limit."""
    known: Caller | None = getattr(request.state, "caller", None)
    if known is not None:
        return known
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("send the API key as `Authorization: Bearer <key>`", code="unauthorized")
    key = credentials.credentials
    if not key or len(key) > _MAX_KEY_LENGTH:
        raise Unauthorized("the API key is not valid", code="invalid_api_key")
    cache: CallerCache = request.app.state.caller_cache
    key_hash = hash_api_key(key)

    async def look_up() -> Caller | None:
        db: Database = request.app.state.runtime.db
        async with db.reader() as session:
            return await caller_for_key(session, key_hash)

    caller = await cache.load(key_hash, look_up)
    if caller is None:
        raise Unauthorized("the API key is not valid", code="invalid_api_key")
    request.state.caller = caller
    set_client_id(str(caller.client_id))
    limiter: RateLimiter = request.app.state.rate_limiter
    standing = limiter.take(caller)
    if standing is not None:
        request.state.rate_standing = standing  # headers of the answer (`app.core.middleware`)
        if standing.retry_after is not None:
            raise TooManyRequests(standing.retry_after)
    return caller


def Authorized(action: Action) -> Any:  # noqa: N802 - reads like a type in signatures
    """`caller: Annotated[Caller, Authorized(Action.X)]`: authenticate, then check the role."""
    return Depends(_require(action))
