"""A supplier's sending domain and DKIM key, bound to its account: mail to a relay address is taken only from
the address's supplier, From its bound domain and DKIM-signed with its bound key (`relay.inbound`).

The key is given as a PEM public key or as the `p=` value of its DKIM DNS record, and kept as the DNS TXT
record it stands for (`v=DKIM1; k=...; p=...`), which is what the verifier is handed in place of a DNS
answer (`dkim_signing.verify`).
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from sqlalchemy.orm import Session

from infomediary.database import WriteSession, utcnow
from infomediary.errors import DomainError, NotFound
from infomediary.relay.models import SupplierSendingDomainRow

DOMAIN = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+", re.ASCII)
SELECTOR = re.compile(r"[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?", re.ASCII)
# dkimpy refuses RSA keys under 1024 bits by default; 2048 is what a new key should be.
MIN_RSA_BITS = 1024


class SendingKeyInvalid(DomainError):
    # A payload error: the key is not a public key DKIM can verify with.
    status = 422
    slug = "sending-key-invalid"
    title = "The public key is not an RSA (1024 bits or more) or Ed25519 key"


class SendingDomainInvalid(DomainError):
    status = 422
    slug = "sending-domain-invalid"
    title = "The sending domain or selector is not a valid DNS name"


class SendingDomainUnset(NotFound):
    slug = "sending-domain-not-found"
    title = "No sending domain is bound to this supplier"


@dataclass(frozen=True)
class SendingDomain:
    domain: str
    selector: str
    dns_record: str
    updated_at: datetime


def _dns_record(public_key: str) -> str:
    """The DKIM TXT record for a PEM public key or a bare `p=` value (base64 of the DER key)."""
    text = public_key.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_public_key(text.encode())
        else:
            raw = base64.b64decode("".join(text.split()), validate=True)
            key = (
                ed25519.Ed25519PublicKey.from_public_bytes(raw)
                if len(raw) == 32
                else serialization.load_der_public_key(raw)
            )
    except (ValueError, TypeError, binascii.Error):
        raise SendingKeyInvalid() from None
    if isinstance(key, rsa.RSAPublicKey) and key.key_size >= MIN_RSA_BITS:
        der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        return f"v=DKIM1; k=rsa; p={base64.b64encode(der).decode()}"
    if isinstance(key, ed25519.Ed25519PublicKey):
        # RFC 8463: an Ed25519 key's p= is the bare 32-byte key.
        raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return f"v=DKIM1; k=ed25519; p={base64.b64encode(raw).decode()}"
    raise SendingKeyInvalid()


def bind(
    session: WriteSession, supplier_id: str, *, domain: str, selector: str, public_key: str
) -> SendingDomain:
    """Bind (or replace) the supplier's sending domain and DKIM key; mail checked from now on uses these."""
    domain, selector = domain.strip().lower().rstrip("."), selector.strip().lower()
    if not DOMAIN.fullmatch(domain) or len(domain) > 253 or not SELECTOR.fullmatch(selector):
        raise SendingDomainInvalid()
    record = _dns_record(public_key)
    row = session.get(SupplierSendingDomainRow, supplier_id)
    if row is None:
        row = SupplierSendingDomainRow(supplier_id=supplier_id, domain=domain, selector=selector)
        session.add(row)
    row.domain, row.selector, row.public_key, row.updated_at = domain, selector, record, utcnow()
    session.flush()
    return _view(row)


def get(session: Session, supplier_id: str) -> SendingDomain | None:
    row = session.get(SupplierSendingDomainRow, supplier_id)
    return _view(row) if row else None


def require(session: Session, supplier_id: str) -> SendingDomain:
    found = get(session, supplier_id)
    if found is None:
        raise SendingDomainUnset()
    return found


def _view(row: SupplierSendingDomainRow) -> SendingDomain:
    return SendingDomain(row.domain, row.selector, row.public_key, row.updated_at)
