"""Opaque identifiers: a short type prefix and 128 random bits, so ids leak neither order nor count."""

from __future__ import annotations

import secrets


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(16)}"
