"""OAuth client credentials: a random id, a 256-bit secret shown once, only its hash stored; listing a
supplier's clients and rotating a secret."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from infomediary.database import WriteSession, utcnow
from infomediary.ids import new_id
from infomediary.oauth.errors import ClientNotFound
from infomediary.oauth.models import ClientKind, OAuthClient


@dataclass(frozen=True)
class ClientCredentials:
    client_id: str
    client_secret: str


@dataclass(frozen=True)
class ClientView:
    """A client as its owner sees it: never the secret, which exists only as a hash."""

    client_id: str
    scopes: list[str]
    created_at: datetime
    secret_rotated_at: datetime | None


def _new_secret() -> str:
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def secret_matches(stored_hash: bytes, presented: str) -> bool:
    return hmac.compare_digest(stored_hash, hash_secret(presented))


def create_client(
    session: WriteSession, *, kind: ClientKind, owner_id: str, scopes: list[str]
) -> ClientCredentials:
    credentials = ClientCredentials(client_id=secrets.token_urlsafe(18), client_secret=_new_secret())
    session.add(
        OAuthClient(
            id=new_id("cli"),
            client_id=credentials.client_id,
            secret_hash=hash_secret(credentials.client_secret),
            kind=kind.value,
            supplier_id=owner_id if kind is ClientKind.SUPPLIER else None,
            auditor_id=owner_id if kind is ClientKind.AUDITOR else None,
            scopes=" ".join(sorted(set(scopes))),
        )
    )
    session.flush()
    return credentials


def supplier_clients(session: Session, supplier_id: str) -> list[ClientView]:
    rows = session.scalars(
        select(OAuthClient)
        .where(OAuthClient.supplier_id == supplier_id, OAuthClient.disabled_at.is_(None))
        .order_by(OAuthClient.created_at, OAuthClient.id)
    )
    return [
        ClientView(row.client_id, row.scopes.split(), row.created_at, row.secret_rotated_at) for row in rows
    ]


def rotate_supplier_secret(
    session: WriteSession, *, supplier_id: str, client_id: str, now: datetime | None = None
) -> ClientCredentials:
    """A new secret for one of this supplier's clients, returned once; the old secret stops working at once.

    Another supplier's client is indistinguishable from a missing one. Access tokens already issued keep
    working until they expire (at most `access_token_ttl_seconds`); `/oauth/revoke` ends one sooner.
    """
    row = session.scalar(
        select(OAuthClient)
        .where(
            OAuthClient.client_id == client_id,
            OAuthClient.supplier_id == supplier_id,
            OAuthClient.disabled_at.is_(None),
        )
        .with_for_update()
    )
    if row is None:
        raise ClientNotFound()
    secret = _new_secret()
    row.secret_hash = hash_secret(secret)
    row.secret_rotated_at = now or utcnow()
    session.flush()
    return ClientCredentials(client_id=row.client_id, client_secret=secret)
