"""The HTTP client for every call the service makes to a partner (platforms, the payment and SMS
gateways, webhook receivers).

Redirects are never followed: a partner's answer is read where it was asked, and a redirect to
an internal address would go around the destination guard (`app.core.destinations`). The trust
store is loaded once per process and shared by every client: loading the CA bundle costs about
40 ms, paid again by every client built without it.
"""

from __future__ import annotations

import functools
import ssl
from typing import Any

import httpx


@functools.cache
def tls_context() -> ssl.SSLContext:
    """httpx's default verification (certifi's CA bundle), built once."""
    return httpx.create_ssl_context()


def outbound_client(**options: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(follow_redirects=False, verify=tls_context(), **options)
