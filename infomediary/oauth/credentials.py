"""Creating OAuth client credentials: a random id, a 256-bit secret shown once, only its hash stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy.orm import Session

from infomediary.ids import new_id
from infomediary.oauth.models import ClientKind, OAuthClient


@dataclass(frozen=True)
class ClientCredentials:
    client_id: str
    client_secret: str


def hash_secret(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def secret_matches(stored_hash: bytes, presented: str) -> bool:
    return hmac.compare_digest(stored_hash, hash_secret(presented))


def create_client(
    session: Session, *, kind: ClientKind, owner_id: str, scopes: list[str]
) -> ClientCredentials:
    credentials = ClientCredentials(
        client_id=secrets.token_urlsafe(18), client_secret=secrets.token_urlsafe(32)
    )
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
