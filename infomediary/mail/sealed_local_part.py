"""Mail addresses whose local part is an encryption, not a lookup key: AES-SIV (RFC 5297) of a few bytes,
written in unpadded lowercase base32 (case-insensitive, as mail treats local parts in practice).

The relay's addresses are made this way (a customer's relay address, `aliases.service`; the address a reply
goes to, `relay.reply_address`): no table maps such an address to anyone, SIV authenticates what it seals,
so an altered or made-up address opens to nothing, and each kind has a key and a label of its own.

Opening is strict: the last base32 character carries bits beyond the bytes it encodes, which decoding
ignores, so an address is accepted only in the one spelling the relay wrote (else sixteen spellings of one
address would open alike, and an altered address could still work).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

BASE32 = frozenset("abcdefghijklmnopqrstuvwxyz234567")


@lru_cache(maxsize=16)
def siv(secret: bytes, label: bytes) -> AESSIV:
    """AES-256-SIV under a key of its own for `label`: SIV takes a 512-bit key (two AES-256 keys), expanded
    from the 256-bit secret. The relay's links in mail use it too (`relay.links`), written as base64url."""
    return AESSIV(HKDF(algorithm=hashes.SHA256(), length=64, salt=None, info=label + b".siv").derive(secret))


def _text(sealed: bytes) -> str:
    return base64.b32encode(sealed).decode().rstrip("=").lower()


@dataclass(frozen=True)
class SealedLocalPart:
    """One kind of sealed local part: its key's label (also its associated data) and a prefix (may be
    empty) that tells kinds apart at a glance; base32 has no `-`, so a prefix ending in one never clashes."""

    label: bytes
    prefix: str = ""

    def seal(self, secret: bytes, plaintext: bytes) -> str:
        return self.prefix + _text(siv(secret, self.label).encrypt(plaintext, [self.label]))

    def open(self, secret: bytes, local_part: str, *, size: int) -> bytes | None:
        """The `size` bytes sealed in `local_part`, or None: not of this kind, altered, or made up."""
        local = local_part.lower()
        if not local.startswith(self.prefix):
            return None
        body = local.removeprefix(self.prefix)
        # SIV adds a 16-byte tag; unpadded base32 writes n bytes in ceil(8n/5) characters.
        if len(body) != -(-(size + 16) * 8 // 5) or not set(body) <= BASE32:
            return None
        try:
            sealed = base64.b32decode(body.upper() + "=" * (-len(body) % 8))
            if _text(sealed) != body:
                return None
            opened = siv(secret, self.label).decrypt(sealed, [self.label])
        except (InvalidTag, ValueError, binascii.Error):
            return None
        return opened if len(opened) == size else None
