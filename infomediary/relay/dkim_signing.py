"""DKIM (RFC 6376) with dkimpy: the relay signs what it sends for the relay domain, and checks a supplier's
mail against the key bound to the supplier's account, never against DNS.

The relay's private key is RSA 2048, kept with the other key material (`KeyMaterial.relay_dkim_pem`, made on
first use); `infomediary relay dkim-record` prints the TXT record to publish at
`<selector>._domainkey.<relay domain>`.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

import dkim
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from infomediary.keymaterial import KeyMaterial
from infomediary.settings import Settings

# The headers the relay's signature covers: what tells her who wrote and what about. `From` twice (an empty
# second instance): a header `From` added in transit would break the signature instead of being shown.
SIGNED_HEADERS: Final = (
    b"from",
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"reply-to",
    b"mime-version",
    b"content-type",
    b"content-transfer-encoding",
    b"x-infomediary-supplier",
)
_SIGNATURE_HEADER = re.compile(rb"^dkim-signature\s*:", re.IGNORECASE | re.MULTILINE)


def dns_name(settings: Settings) -> str:
    return f"{settings.relay_dkim_selector}._domainkey.{settings.relay_domain}"


def dns_record(keys: KeyMaterial) -> str:
    """The relay key's DKIM TXT record value (`v=DKIM1; k=rsa; p=...`)."""
    private = serialization.load_pem_private_key(keys.relay_dkim_pem(), password=None)
    der = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return f"v=DKIM1; k=rsa; p={base64.b64encode(der).decode()}"


def sign(keys: KeyMaterial, settings: Settings, message: bytes) -> bytes:
    """`message` (CRLF line ends) with a DKIM-Signature for the relay domain in front."""
    signer = _OpenSslRsaDKIM(message, _private_key(keys.relay_dkim_pem()))
    signature: bytes = signer.sign(
        settings.relay_dkim_selector.encode(),
        settings.relay_domain.encode(),
        keys.relay_dkim_pem(),
        canonicalize=(b"relaxed", b"relaxed"),
        include_headers=list(SIGNED_HEADERS),
    )
    return signature + message


@lru_cache(maxsize=2)
def _private_key(pem: bytes) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    assert isinstance(key, rsa.RSAPrivateKey)  # the relay's key is RSA (`KeyMaterial.relay_dkim_pem`)
    return key


@dataclass(frozen=True)
class _Signed:
    signature: bytes


@dataclass(frozen=True)
class _DigestSigner:
    key: rsa.RSAPrivateKey

    def sign(self, digest: bytes) -> _Signed:
        return _Signed(self.key.sign(digest, padding.PKCS1v15(), Prehashed(hashes.SHA256())))


class _OpenSslRsaDKIM(dkim.DKIM):  # type: ignore[misc]  # dkimpy is untyped
    """dkimpy's signer with the RSA step done by OpenSSL (`cryptography`).

    dkimpy computes RSA signatures in pure Python: about 30 ms for a 2048-bit key, most of the relay's cost
    per message (`bench/relay.py`); OpenSSL takes well under 1 ms. dkimpy hands its ed25519 keys the
    finished header digest (`key.sign(digest).signature`): that branch is the hook, with an RSA key that
    signs the SHA-256 digest (PKCS#1 v1.5, as rsa-sha256 prescribes) behind it. Everything else, the
    canonicalisation and the header it writes (`a=rsa-sha256`), is dkimpy's own; the tests verify the
    result with dkimpy's verifier."""

    def __init__(self, message: bytes, key: rsa.RSAPrivateKey) -> None:
        super().__init__(message)
        self._digest_signer = _DigestSigner(key)

    def gen_header(self, *args: Any, **kwargs: Any) -> bytes:
        fields, include_headers, canon_policy, header_name, _pure_python_key, *rest = args
        algorithm: bytes = getattr(self, "signature_algorithm")  # noqa: B009  # dkimpy's attribute is untyped
        assert algorithm == b"rsa-sha256"
        self.signature_algorithm = b"ed25519-sha256"
        try:
            header: bytes = super().gen_header(
                fields, include_headers, canon_policy, header_name, self._digest_signer, *rest, **kwargs
            )
        finally:
            self.signature_algorithm = algorithm
        return header


def verify(message: bytes, *, domain: str, selector: str, record: str) -> bool:
    """Whether a DKIM signature of `message` made with the key `record` for `selector` at `domain` verifies.

    The verifier asks for keys by name; it is answered with `record` for that one name and nothing for any
    other, so a signature by another domain or selector (an intermediary's, a forger's own) proves nothing
    here. Every signature the message carries is tried: a mailing service may have signed first.
    """
    wanted = f"{selector}._domainkey.{domain}".encode()

    def dnsfunc(name: bytes, timeout: int = 5) -> bytes:
        return record.encode() if name.rstrip(b".").lower() == wanted else b""

    head = re.split(rb"\r?\n\r?\n", message, maxsplit=1)[0]
    checker = dkim.DKIM(message)
    for index in range(len(_SIGNATURE_HEADER.findall(head))):
        try:
            if checker.verify(idx=index, dnsfunc=dnsfunc):
                return True
        except dkim.DKIMException:
            continue
    return False
