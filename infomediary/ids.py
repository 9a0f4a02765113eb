"""Opaque identifiers: a short type prefix and 128 random bits, so ids leak neither order nor count."""

from __future__ import annotations

import re
import secrets

# What every id looks like (`new_id`; pseudonyms are base64url); the edge checks it with `text.Id`.
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(16)}"


def looks_like_id(value: str) -> bool:
    """For an id that arrives past pydantic (an OAuth client id parsed by authlib): could it be one at all?"""
    return _ID.fullmatch(value) is not None
