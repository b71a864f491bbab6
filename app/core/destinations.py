"""Where the service may send what a partner asked it to: public HTTPS endpoints only (no SSRF
into our own network).

A platform chooses its webhook URL, and an administrator its verification URLs (which receive ID
numbers and names), so without this check the service could be made to POST to the database
host, the cloud metadata address (169.254.169.254) or anything else on the inside. A webhook URL
is checked when it is registered and its name is resolved again at every delivery; the request
is then sent to the address that was checked (the name goes in the Host header and TLS SNI, and
the certificate is verified against it), so a DNS answer that changes between the check and the
connection cannot redirect it. Redirects are never followed. Verification URLs are checked when
they are set, in production mode.

`MUTUALAID_WEBHOOK_ALLOW_PRIVATE_URLS` lifts the address and scheme rules for webhooks in tests
and local demos; production mode refuses it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]
_DEFAULT_PORTS = {"https": 443, "http": 80}
_GLOBAL_UNICAST_V6 = ipaddress.IPv6Network("2000::/3")
MAX_URL_LENGTH = 500  # as stored (`webhook_endpoints.url`), after normalisation


class DestinationRefused(Exception):
    """The URL may not receive webhooks; `code` is the machine code given to the platform."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Destination:
    """A checked URL and the address to connect to."""

    url: httpx.URL
    address: str


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def public_address(address: IPAddress) -> bool:
    """Routable on the public internet: not loopback, private, link-local, shared (CGNAT),
    reserved, multicast or unspecified. IPv6 must be global unicast (2000::/3), which leaves
    out the forms that carry an IPv4 address to translate (NAT64 64:ff9b::/96 and /48,
    IPv4-mapped and -translated); 6to4 and Teredo carry one inside 2000::/3, and it is checked."""
    if isinstance(address, ipaddress.IPv6Address):
        if address not in _GLOBAL_UNICAST_V6:
            return False
        embedded = address.sixtofour or (address.teredo or (None, None))[1]
        if embedded is not None and not public_address(embedded):
            return False
    return address.is_global and not address.is_multicast


def _port(url: httpx.URL) -> int:
    return url.port if url.port is not None else _DEFAULT_PORTS[url.scheme]


def check_shape(url: str, *, allow_private: bool, kind: str = "webhook") -> httpx.URL:
    """The URL's own form: HTTPS, a host, no credentials, and a port that is 443 or not a
    well-known service's."""
    try:
        parsed = httpx.URL(url)
        host = parsed.host  # decodes an IDNA name: may fail
    except (httpx.InvalidURL, ValueError) as exc:  # UnicodeError is a ValueError
        raise DestinationRefused(f"{kind}_url_invalid", f"the {kind} URL is not valid") from exc
    if len(str(parsed)) > MAX_URL_LENGTH:
        raise DestinationRefused(
            f"{kind}_url_invalid", f"the {kind} URL is longer than {MAX_URL_LENGTH} characters"
        )
    if parsed.scheme != "https" and not (allow_private and parsed.scheme == "http"):
        raise DestinationRefused(f"{kind}_url_not_https", f"{kind} URLs must use https")
    if not host:
        raise DestinationRefused(f"{kind}_url_invalid", f"the {kind} URL has no host")
    if parsed.userinfo:
        raise DestinationRefused(
            f"{kind}_url_not_allowed", f"the {kind} URL must not carry credentials"
        )
    port = _port(parsed)
    if not 1 <= port <= 65535:
        raise DestinationRefused(f"{kind}_url_invalid", f"the {kind} URL's port is not valid")
    if not allow_private and port != 443 and port < 1024:
        raise DestinationRefused(
            f"{kind}_url_not_allowed", f"the {kind} URL's port must be 443 or above 1023"
        )
    return parsed


async def check(
    url: str, *, allow_private: bool, resolve: Resolver, kind: str = "webhook"
) -> Destination:
    """The URL and a checked address for it; DestinationRefused when it may not be used. Its
    codes and messages name the `kind` of URL (`webhook_url_not_https`, ...)."""
    parsed = check_shape(url, allow_private=allow_private, kind=kind)
    try:
        addresses = [ipaddress.ip_address(parsed.host)]
    except ValueError:
        try:
            found = await resolve(parsed.host, _port(parsed))
        except (OSError, ValueError) as exc:  # ValueError: a name IDNA cannot encode
            raise DestinationRefused(
                f"{kind}_url_unresolvable", f"the {kind} URL's host does not resolve"
            ) from exc
        addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in found]
    if not addresses:
        raise DestinationRefused(
            f"{kind}_url_unresolvable", f"the {kind} URL's host does not resolve"
        )
    if not allow_private and not all(public_address(a) for a in addresses):
        # Every address must be public: a name with one private answer could be steered to it.
        raise DestinationRefused(
            f"{kind}_url_not_allowed",
            f"{kind} URLs must point at public addresses (not loopback, private or link-local)",
        )
    return Destination(parsed, str(addresses[0]))


def pinned_request(
    client: httpx.AsyncClient,
    destination: Destination,
    body: bytes,
    headers: dict[str, str],
    timeout: float,
) -> httpx.Request:
    """A POST to the checked address, with the URL's host as Host header and TLS name."""
    url = destination.url
    return client.build_request(
        "POST",
        url.copy_with(host=destination.address),
        content=body,
        headers={**headers, "Host": url.netloc.decode("ascii")},
        extensions={"sni_hostname": url.host},
        timeout=timeout,
    )
