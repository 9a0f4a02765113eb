"""The links the relay puts in a forwarded message: report it as unwanted, and load one of its images
through the broker's proxy.

Each link carries its subject sealed with AES-SIV under a key of its own (from the `relay_link` secret, one
label per kind of link): nobody can make a link for a message or a URL the relay did not write, and a link
says nothing readable. SIV is deterministic on purpose: the same image URL always gives the same proxy
link, so a supplier's image is fetched and cached once whoever reads it, and the link names no customer.
"""

from __future__ import annotations

import base64
import binascii
from typing import Final
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidTag

from infomediary.keymaterial import KeyMaterial
from infomediary.mail.sealed_local_part import siv
from infomediary.settings import Settings

_REPORT: Final = b"infomediary relay report link v1"
_IMAGE: Final = b"infomediary relay image link v1"
# The longest image URL the proxy takes; a longer one is blocked, not proxied (only trackers need that much).
MAX_IMAGE_URL: Final = 2048
# A token is base64url of the URL and SIV's 16-byte tag: bounded by the URL's bound.
MAX_TOKEN: Final = 4 * (MAX_IMAGE_URL + 16 + 2) // 3
IMAGE_SCHEMES: Final = frozenset({"http", "https"})


def _seal(keys: KeyMaterial, label: bytes, plain: bytes) -> str:
    sealed = siv(keys.secret("relay_link"), label).encrypt(plain, [label])
    return base64.urlsafe_b64encode(sealed).decode().rstrip("=")


def _open(keys: KeyMaterial, label: bytes, token: str) -> bytes | None:
    if not token or len(token) > MAX_TOKEN or not token.isascii():
        return None
    try:
        sealed = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        return siv(keys.secret("relay_link"), label).decrypt(sealed, [label])
    except (InvalidTag, ValueError, binascii.Error):
        return None


def report_token(keys: KeyMaterial, message_id: str) -> str:
    return _seal(keys, _REPORT, message_id.encode())


def reported_message(keys: KeyMaterial, token: str) -> str | None:
    """The relayed message id a report token was made for, or None for a token the relay did not make."""
    opened = _open(keys, _REPORT, token)
    return opened.decode() if opened is not None else None


def report_url(keys: KeyMaterial, settings: Settings, message_id: str) -> str:
    return f"{settings.issuer.rstrip('/')}/relay/report/{report_token(keys, message_id)}"


def proxiable(url: str) -> bool:
    """Whether the proxy may fetch `url`: http(s) with a host, and not too long."""
    if len(url) > MAX_IMAGE_URL or not url.isascii():
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in IMAGE_SCHEMES and bool(parts.hostname)


def image_token(keys: KeyMaterial, url: str) -> str:
    return _seal(keys, _IMAGE, url.encode())


def image_source(keys: KeyMaterial, token: str) -> str | None:
    """The image URL an image token was made for, or None."""
    opened = _open(keys, _IMAGE, token)
    if opened is None:
        return None
    url = opened.decode("ascii", "replace")
    return url if proxiable(url) else None


def image_url(keys: KeyMaterial, settings: Settings, url: str) -> str:
    return f"{settings.issuer.rstrip('/')}/relay/images/{image_token(keys, url)}"
