"""Which URLs may receive webhooks: https on public addresses only (no SSRF into the broker's network).

Checked when an endpoint is registered and again before every attempt, because a name can be pointed at
another address after registration (DNS rebinding). Loopback (with plain http) and private ranges are
allowed only when the settings say so, for tests and local development. Redirects are never followed.
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


def resolve_host(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (A and AAAA)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise WebhookUrlRefused(f"the host {host!r} does not resolve") from exc
    return sorted({str(info[4][0]) for info in infos})


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


def _refusal(address: IPAddress, policy: UrlPolicy) -> str | None:
    if address.is_loopback:
        return None if policy.allow_loopback else "a loopback address"
    if address.is_unspecified or address.is_multicast:
        return "an unspecified or multicast address"
    if not address.is_global:
        # Private, link-local (cloud metadata at 169.254.169.254), shared, reserved or documentation ranges.
        return None if policy.allow_private else "a private, link-local or reserved address"
    return None


def check(url: str, policy: UrlPolicy, resolve: Resolver = resolve_host) -> str:
    """Return the URL if it may receive webhooks, else raise `WebhookUrlRefused` saying why."""
    if len(url) > MAX_URL_LENGTH:
        raise WebhookUrlRefused(f"the URL is longer than {MAX_URL_LENGTH} characters")
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
            addresses = [_address(a) for a in resolve(host, port)]
    if not addresses:
        raise WebhookUrlRefused(f"the host {host!r} does not resolve")
    for address in addresses:
        reason = _refusal(address, policy)
        if reason is not None:
            raise WebhookUrlRefused(f"the host resolves to {reason}")
    if parts.scheme == "http" and not all(a.is_loopback for a in addresses):
        raise WebhookUrlRefused("the URL must use https (plain http only on loopback, when allowed)")
    return url
