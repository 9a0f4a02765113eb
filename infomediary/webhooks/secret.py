"""Endpoint signing secrets: 32 random bytes, shown once as `whsec_<base64>`, stored wrapped.

A webhook secret must be usable for HMAC, so it cannot be hashed: it is wrapped by the vault's current
key-encryption key (the same versioned keyring as customers' data keys, outside the database), bound to the
endpoint id as associated data so a wrapped secret copied to another endpoint does not unwrap. `keys rotate`
rewraps these with the data keys.
"""

from __future__ import annotations

import base64
import secrets

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from infomediary.database import WriteSession
from infomediary.runtime import Runtime
from infomediary.webhooks.models import WebhookEndpointRow
from vault import WrappedKey

PREFIX = "whsec_"
SECRET_BYTES = 32


def _aad(endpoint_id: str) -> bytes:
    return b"infomediary/webhook-secret/v1:" + endpoint_id.encode()


def new() -> bytes:
    return secrets.token_bytes(SECRET_BYTES)


def shown(secret: bytes) -> str:
    """The Standard Webhooks spelling a receiver's library expects."""
    return PREFIX + base64.b64encode(secret).decode()


def seal(runtime: Runtime, row: WebhookEndpointRow, secret: bytes) -> None:
    wrapped = runtime.vault.provider.wrap(secret, _aad(row.id))
    row.secret_wrapped, row.kek_version = wrapped.to_bytes(), wrapped.kek_version


def open_secret(runtime: Runtime, row: WebhookEndpointRow) -> bytes:
    return runtime.vault.provider.unwrap(WrappedKey.from_bytes(row.secret_wrapped), _aad(row.id))


def per_version(session: Session) -> dict[int, int]:
    rows = session.execute(
        select(WebhookEndpointRow.kek_version, func.count()).group_by(WebhookEndpointRow.kek_version)
    ).all()
    return {int(version): int(count) for version, count in rows}


def rewrap(session: WriteSession, runtime: Runtime) -> int:
    """Rewrap every secret below the current key version (few rows: at most a handful per supplier)."""
    provider = runtime.vault.provider
    target = provider.current_version()
    rows = session.scalars(
        select(WebhookEndpointRow).where(WebhookEndpointRow.kek_version < target).with_for_update()
    ).all()
    for row in rows:
        seal(runtime, row, open_secret(runtime, row))
    session.flush()
    return len(rows)
