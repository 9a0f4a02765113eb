"""The address she replies to: `r-` and base32 of AES-SIV (RFC 5297) of the id of the message she received.

Like a relay address (`aliases.service`) it is an encryption, not a lookup key: no table maps a reply address
to her. It opens, under a key of its own (`relay_reply`), to the relayed message's id, and that row says whose
message it was, through which of her addresses, and (sealed under her erasure key) which supplier address
wrote it, where the reply goes. SIV authenticates what it encrypts: an address altered or made up opens to
nothing. Once she is erased her messages go with her account, so a kept reply address opens to no row.

The `r-` prefix keeps the two kinds of address apart at a glance (`server` dispatches on it): base32 has no
`-`, so no relay address can start with it.
"""

from __future__ import annotations

import base64
import binascii
import re
from functools import lru_cache
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from infomediary.runtime import Runtime
from infomediary.settings import Settings

PREFIX: Final = "r-"
_ID_PREFIX = "msg_"
_ID_BYTES = 16
_SIV_KEY_LABEL = b"infomediary.relay-reply.siv.v1"
_AD_LABEL = b"infomediary.relay-reply.v1"
# 16 bytes of id and 16 of SIV tag, unpadded base32: 52 characters, 54 with the prefix (a local part <= 64).
_LOCAL_PART = re.compile(r"r-[a-z2-7]{52}", re.ASCII)


@lru_cache(maxsize=4)
def _siv_key(secret: bytes) -> bytes:
    # AES-256-SIV takes a 512-bit key (two AES-256 keys): expanded from the 256-bit secret.
    return HKDF(algorithm=hashes.SHA256(), length=64, salt=None, info=_SIV_KEY_LABEL).derive(secret)


def _cipher(runtime: Runtime) -> AESSIV:
    return AESSIV(_siv_key(runtime.keys.secret("relay_reply")))


def address(runtime: Runtime, message_id: str) -> str:
    """The reply address of one relayed message (`msg_` and 32 hex digits, as `ids.new_id` makes them)."""
    if not message_id.startswith(_ID_PREFIX):
        raise ValueError("not a relayed message id")
    raw = bytes.fromhex(message_id.removeprefix(_ID_PREFIX))
    if len(raw) != _ID_BYTES:
        raise ValueError("not a relayed message id")
    sealed = _cipher(runtime).encrypt(raw, [_AD_LABEL])
    local = PREFIX + base64.b32encode(sealed).decode().rstrip("=").lower()
    return f"{local}@{runtime.settings.relay_domain}"


def is_reply_address(settings: Settings, address: str) -> bool:
    """Whether `address` has the form of a reply address under the relay domain (not whether it opens)."""
    local, at, domain = address.strip().rpartition("@")
    relay_domain = domain.casefold() == settings.relay_domain.casefold()
    return bool(at) and relay_domain and local.lower().startswith(PREFIX)


def message_id(runtime: Runtime, address: str) -> str | None:
    """The relayed message a reply address answers, or None: not one the relay made, or altered."""
    local, at, domain = address.strip().rpartition("@")
    if not at or domain.casefold() != runtime.settings.relay_domain.casefold():
        return None
    local = local.lower()
    if not _LOCAL_PART.fullmatch(local):
        return None
    body = local.removeprefix(PREFIX)
    try:
        sealed = base64.b32decode(body.upper() + "=" * (-len(body) % 8))
        # The last character carries 4 bits beyond the 256 it encodes, which decoding ignores: without
        # this, 16 spellings would open to one message, and an altered address could still work.
        if base64.b32encode(sealed).decode().rstrip("=").lower() != body:
            return None
        opened = _cipher(runtime).decrypt(sealed, [_AD_LABEL])
    except (InvalidTag, ValueError, binascii.Error):
        return None
    if len(opened) != _ID_BYTES:
        return None
    return _ID_PREFIX + opened.hex()
