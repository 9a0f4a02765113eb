"""Which URLs may receive webhooks: https on public addresses only (no SSRF into the broker's network).

Checked when an endpoint is registered and again for every attempt, because a name can be pointed at
another address after registration (DNS rebinding); an attempt then connects to an address its check passed
(`vet` returns them, `transport` connects), never to a second answer for the name. Loopback (with plain
http) and private ranges are allowed only when the settings say so, for tests and local development.
Redirects are never followed.
An IPv6 address that carries an IPv4 address for a relay or translator to reach (IPv4-compatible, 6to4,
NAT64, Teredo) is judged by that IPv4 address too, and no setting lets it lead to a non-global one.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from infomediary.settings import Settings
from infomediary.webhooks.errors import WebhookUrlRefused

MAX_URL_LENGTH = 2048
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

# RFC 6052 section 2.1: the NAT64 well-known prefix; the IPv4 address is the last 32 bits.
NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")
# RFC 8215: the local-use NAT64 prefix. Its operator picks the prefix length, so where the IPv4 address
# sits is unknown here, and the translator is in someone's own network: never global.
NAT64_LOCAL_USE = ipaddress.IPv6Network("64:ff9b:1::/48")


def resolve_host(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (A and AAAA), once each, in the system's order of preference.

    The order is kept because the first address is the one connected to (RFC 6724 puts, for example, IPv6
    last on a host without IPv6 routes).
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise WebhookUrlRefused(f"the host {host!r} does not resolve") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class UrlPolicy:
    allow_loopback: bool = False
    allow_private: bool = False

    @classmethod
    def of(cls, settings: Settings) -> UrlPolicy:
        return cls(settings.webhook_allow_loopback, settings.webhook_allow_private)


def _address(text: str) -> IPAddress:
    address = ipaddress.ip_address(text.split("%", 1)[0])  # drop an IPv6 zone id
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _embedded(address: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, ...] | None:
    """The IPv4 addresses a packet to `address` is relayed or translated to, or None if it embeds none.

    IPv4-mapped addresses never get here: `_address` has already made them the IPv4 address they are.
    """
    if address.sixtofour is not None:  # RFC 3056: 2002:a.b.c.d::/48
        return (address.sixtofour,)
    if address.teredo is not None:  # RFC 4380: both the server and the (obfuscated) client
        return address.teredo
    if address in NAT64_WELL_KNOWN:
        return (ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF),)
    if int(address) >> 32 == 0xFFFF_0000:
        # RFC 6145 (SIIT): the IPv4-translated ::ffff:0:a.b.c.d, which Python 3.11 calls global.
        return (ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF),)
    if int(address) >> 32 == 0 and not (address.is_unspecified or address.is_loopback):
        # RFC 4291 section 2.5.5.1: the deprecated IPv4-compatible ::a.b.c.d (high 96 bits zero).
        return (ipaddress.IPv4Address(int(address)),)
    return None


def _refusal(address: IPAddress, policy: UrlPolicy) -> str | None:
    if isinstance(address, ipaddress.IPv6Address):
        if address in NAT64_LOCAL_USE:
            return "a local-use NAT64 address"
        embedded = _embedded(address)
        # The loopback and private allowances are for the broker's own host and network; a relay or
        # translator would reach its own, so an embedded address must be global whatever the settings.
        if embedded is not None and any(_refusal(v4, UrlPolicy()) is not None for v4 in embedded):
            return "an IPv6 address that embeds a non-global IPv4 address"
        if embedded is not None and address.teredo is None:
            # Such an address stands for its IPv4 address, and Python versions disagree about the prefixes
            # themselves (newer ones call 2002::/16 not global), so the IPv4 address alone decides.
            return None
    if address.is_loopback:
        return None if policy.allow_loopback else "a loopback address"
    if address.is_unspecified or address.is_multicast:
        return "an unspecified or multicast address"
    if not address.is_global:
        # Private, link-local (cloud metadata at 169.254.169.254), shared, reserved or documentation ranges.
        return None if policy.allow_private else "a private, link-local or reserved address"
    return None


@dataclass(frozen=True)
class Target:
    """A URL that passed the check: its host name and every address the name resolved to, in order."""

    host: str
    addresses: tuple[IPAddress, ...]


def check(url: str, policy: UrlPolicy, resolve: Resolver = resolve_host) -> str:
    """Return the URL if it may receive webhooks, else raise `WebhookUrlRefused` saying why."""
    if len(url) > MAX_URL_LENGTH:
        raise WebhookUrlRefused(f"the URL is longer than {MAX_URL_LENGTH} characters")
    vet(url, policy, resolve)
    return url


def vet(url: str, policy: UrlPolicy, resolve: Resolver = resolve_host) -> Target:
    """Resolve the URL's host once and judge every address; raise `WebhookUrlRefused` if it is refused.

    The length is bounded where a URL comes in (`check`), not here: the URL a request is sent to is the
    registered one as httpx writes it, percent-encoded, so it may be longer than what was registered.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise WebhookUrlRefused("the URL is malformed") from exc
    if parts.scheme not in ("https", "http"):
        raise WebhookUrlRefused("the URL must use https")
    if parts.username is not None or parts.password is not None:
        raise WebhookUrlRefused("the URL must not carry credentials")
    if parts.fragment:
        raise WebhookUrlRefused("the URL must not have a fragment")
    host = parts.hostname
    if not host:
        raise WebhookUrlRefused("the URL has no host")
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = [_address(host)]
    except ValueError:
        if host == "localhost" or host.endswith(".localhost"):
            addresses = [ipaddress.ip_address("127.0.0.1")]
        else:
            # An IPv4-mapped answer becomes its IPv4 address, which may repeat another answer.
            addresses = list(dict.fromkeys(_address(a) for a in resolve(host, port)))
    if not addresses:
        raise WebhookUrlRefused(f"the host {host!r} does not resolve")
    for address in addresses:
        reason = _refusal(address, policy)
        if reason is not None:
            raise WebhookUrlRefused(f"the host resolves to {reason}")
    if parts.scheme == "http" and not all(a.is_loopback for a in addresses):
        raise WebhookUrlRefused("the URL must use https (plain http only on loopback, when allowed)")
    return Target(host, tuple(addresses))
