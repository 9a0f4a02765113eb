"""Voucher codes: 128 random bits a person can read out and type, with check characters for typos.

`VCH-` then 28 Crockford base32 digits in groups of four: 26 digits carry the 128 bits (the first digit's top
two bits are always zero) and 2 digits are a check, the first 10 bits of SHA-256 of the 16 bytes, so a
mistyped code is told apart from an unknown one before any lookup (a typo passes one time in 1,024).
Crockford's alphabet has no I, L, O or U; reading it back, those letters are taken for 1, 1, 0 and V is kept
apart, and case, spaces and dashes do not matter.

The code is a bearer secret: the database keeps only `code_hash`, an HMAC under a service secret from the
key material, so a copy of the database alone cannot spend a voucher.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

PREFIX = "VCH"
CODE_BYTES = 16
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_VALUE = {c: i for i, c in enumerate(_ALPHABET)} | {"O": 0, "I": 1, "L": 1}
_DIGITS = 26  # 130 bits: room for 128
_CHECK_DIGITS = 2
_GROUP = 4
_HASH_CONTEXT = b"infomediary/voucher-code/v1\x00"
# The longest text a code can be typed as: prefix, digits, a separator between every two characters.
MAX_TYPED_LENGTH = 2 * (len(PREFIX) + _DIGITS + _CHECK_DIGITS) + 8


class MalformedCode(ValueError):
    """Not a voucher code at all: wrong characters or length, or the check characters do not match."""


def _digits(value: int, count: int) -> str:
    out = []
    for _ in range(count):
        value, digit = divmod(value, 32)
        out.append(_ALPHABET[digit])
    return "".join(reversed(out))


def _check(secret: bytes) -> str:
    return _digits(int.from_bytes(hashlib.sha256(secret).digest()[:2], "big") >> 6, _CHECK_DIGITS)


def new_secret() -> bytes:
    return secrets.token_bytes(CODE_BYTES)


def render(secret: bytes) -> str:
    """The code as the customer is shown it: `VCH-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX`."""
    body = _digits(int.from_bytes(secret, "big"), _DIGITS) + _check(secret)
    return "-".join([PREFIX, *(body[i : i + _GROUP] for i in range(0, len(body), _GROUP))])


def parse(text: str) -> bytes:
    """The 16 bytes behind a code as typed; `MalformedCode` if it cannot be one."""
    compact = "".join(ch for ch in text.upper() if ch not in " -\t")
    if compact.startswith(PREFIX):
        compact = compact[len(PREFIX) :]
    if len(compact) != _DIGITS + _CHECK_DIGITS or any(ch not in _VALUE for ch in compact):
        raise MalformedCode("a voucher code is VCH- and 28 letters and digits")
    value = 0
    for ch in compact[:_DIGITS]:
        value = value * 32 + _VALUE[ch]
    if value >> (8 * CODE_BYTES):
        raise MalformedCode("this is not a voucher code: check it for a typo")
    secret = value.to_bytes(CODE_BYTES, "big")
    typed_check = "".join(_ALPHABET[_VALUE[ch]] for ch in compact[_DIGITS:])
    if not hmac.compare_digest(typed_check, _check(secret)):
        raise MalformedCode("this is not a voucher code: check it for a typo")
    return secret


def code_hash(key: bytes, secret: bytes) -> bytes:
    """What the database keeps and looks a code up by: HMAC-SHA256 under the `voucher_code` service secret."""
    return hmac.new(key, _HASH_CONTEXT + secret, hashlib.sha256).digest()
