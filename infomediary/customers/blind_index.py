"""A keyed blind index of the login email: HMAC-SHA256 of the normalised address under a secret key.

Lets login find an account without the address being stored anywhere in the database in readable form.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata


def normalise_email(email: str) -> str:
    return unicodedata.normalize("NFKC", email).strip().casefold()


def email_index(key: bytes, email: str) -> bytes:
    return hmac.new(key, b"email\x00" + normalise_email(email).encode(), hashlib.sha256).digest()
