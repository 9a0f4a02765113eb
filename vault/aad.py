"""Unambiguous encoding of associated data for AES-GCM.

Associated data binds a ciphertext to its context (subject, field, schema version). Naive concatenation would
let ("ab", "c") and ("a", "bc") share associated data, so that a ciphertext could be moved between them
unnoticed; every part is therefore prefixed with its length.
"""

from __future__ import annotations

_LENGTH_BYTES = 4
_MAX_PART = 2 ** (8 * _LENGTH_BYTES) - 1


def encode_parts(*parts: bytes) -> bytes:
    """Encode ``parts`` as a sequence of (4-byte big-endian length, bytes) pairs.

    The encoding is injective: two different tuples of parts never encode to the same bytes.
    """
    encoded = []
    for part in parts:
        if len(part) > _MAX_PART:
            raise ValueError("associated data part is too long to encode")
        encoded.append(len(part).to_bytes(_LENGTH_BYTES, "big"))
        encoded.append(part)
    return b"".join(encoded)
