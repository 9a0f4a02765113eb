"""Key material outside the database: the service's HMAC secrets and its token-signing keys.

Files live under `<data_dir>/keys/` (directory 0700, files 0600) and are written atomically, so a crash
never leaves a half-written key file. The database never holds any of this material.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc.jwk import ECKey, KeySet

from vault import DataKeyCache, LocalErasureKeyStore, LocalKeyring, Vault, VaultError
from vault.keyfile import write_atomic

SECRETS_FILE = "secrets.json"
SIGNING_FILE = "signing.json"
# The vault's key-encryption keys (LocalKeyring) and per-customer erasure keys (LocalErasureKeyStore).
KEYRING_FILE = "keyring.json"
ERASURE_KEYS_FILE = "erasure_keys.sqlite3"
LOG_SIGNING_FILE = "log-signing.pem"  # Ed25519, signs policy-log tree heads (C2SP signed notes)
# RSA 2048, DKIM-signs the mail the relay forwards (`infomediary.relay.dkim_signing`); made on first use, so
# a service that never relays mail has none to publish.
RELAY_DKIM_FILE = "relay-dkim.pem"
RELAY_DKIM_BITS = 2048
# Purposes of the independent HMAC secrets; a new purpose gets its own key, never a reuse.
SECRET_NAMES = (
    "blind_index",
    "throttle",
    "log_pseudonym",
    "supplier_pseudonym",
    "csrf",
    "voucher_code",
    "relay_alias",
    "relay_reply",
    # The relay's links in forwarded mail (report a message, fetch an image through the proxy).
    "relay_link",
)


class KeyMaterialError(Exception):
    """Key files are missing or unreadable; the message says what to run."""


def write_private_file(path: Path, data: bytes) -> None:
    """Atomically replace `path` with `data`, readable by the owner only (the vault's key-file writer)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    write_atomic(path, data)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


SIGNING_ALG = "ES256"


@dataclass(frozen=True)
class SigningKey:
    """An ES256 (P-256) key for access tokens, receipts and other JWS the service issues."""

    kid: str
    private_key: ec.EllipticCurvePrivateKey
    created_at: datetime

    def jwk(self) -> ECKey:
        """The key as a joserfc JWK (private half included), for signing."""
        return ECKey.import_key(
            self.private_pem(), parameters={"kid": self.kid, "alg": SIGNING_ALG, "use": "sig"}
        )

    def public_jwk(self) -> dict[str, str]:
        public = ECKey.import_key(
            self.private_key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            ),
            parameters={"kid": self.kid, "alg": SIGNING_ALG, "use": "sig"},
        )
        return {k: str(v) for k, v in public.as_dict(private=False).items()}

    def private_pem(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )


class KeyMaterial:
    """Loads and creates the service secrets and signing keys in one directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()
        self._secrets: dict[str, bytes] | None = None
        self._signing: list[SigningKey] | None = None
        self._signing_mtime: float | None = None
        self._verification_keys: KeySet | None = None
        self._current_jwk: KeySet | None = None
        self._log_signing: Ed25519PrivateKey | None = None
        self._relay_dkim: bytes | None = None

    # -- creation -------------------------------------------------------------------------------------
    def ensure(self) -> bool:
        """Create whatever is missing; return True if anything was created."""
        created = False
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.directory, 0o700)
        secrets_path = self.directory / SECRETS_FILE
        if not secrets_path.exists():
            body = {"format": 1, "secrets": {name: _b64(secrets.token_bytes(32)) for name in SECRET_NAMES}}
            write_private_file(secrets_path, json.dumps(body, indent=2).encode())
            created = True
        else:
            existing = self._read_json(secrets_path)
            missing = [n for n in SECRET_NAMES if n not in existing.get("secrets", {})]
            if missing:
                for name in missing:
                    existing["secrets"][name] = _b64(secrets.token_bytes(32))
                write_private_file(secrets_path, json.dumps(existing, indent=2).encode())
                created = True
        if not (self.directory / SIGNING_FILE).exists():
            self._write_signing([self._new_signing_key()])
            created = True
        for name in (KEYRING_FILE, ERASURE_KEYS_FILE):
            if not (self.directory / name).exists():
                created = True
        # Both create their file (private) when it is missing.
        LocalKeyring(self.keyring_path)
        LocalErasureKeyStore(self.erasure_keys_path)
        if not (self.directory / LOG_SIGNING_FILE).exists():
            pem = Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            write_private_file(self.directory / LOG_SIGNING_FILE, pem)
            created = True
        self._secrets = None
        self._signing = None
        self._log_signing = None
        return created

    # -- vault ----------------------------------------------------------------------------------------
    @property
    def keyring_path(self) -> Path:
        return self.directory / KEYRING_FILE

    @property
    def erasure_keys_path(self) -> Path:
        return self.directory / ERASURE_KEYS_FILE

    def open_vault(self, cache: DataKeyCache) -> Vault:
        """The vault over this directory's keyring and erasure keys; both must exist (`infomediary init`)."""
        for path in (self.keyring_path, self.erasure_keys_path):
            if not path.exists():
                raise KeyMaterialError(f"missing key file {path}; run `infomediary init`")
        try:
            return Vault(
                LocalKeyring(self.keyring_path),
                cache,
                erasure_keys=LocalErasureKeyStore(self.erasure_keys_path),
            )
        except VaultError as exc:
            raise KeyMaterialError(str(exc)) from exc

    # -- policy-log signing key -------------------------------------------------------------------------
    def log_signing_key(self) -> Ed25519PrivateKey:
        """The Ed25519 key that signs policy-log checkpoints; separate from the token keys on purpose."""
        if self._log_signing is None:
            path = self.directory / LOG_SIGNING_FILE
            try:
                key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            except FileNotFoundError as exc:
                raise KeyMaterialError(f"missing key file {path}; run `infomediary init`") from exc
            except (OSError, ValueError) as exc:
                raise KeyMaterialError(f"cannot read key file {path}: {exc.__class__.__name__}") from exc
            if not isinstance(key, Ed25519PrivateKey):
                raise KeyMaterialError(f"{path} is not an Ed25519 key")
            self._log_signing = key
        return self._log_signing

    # -- relay DKIM key ---------------------------------------------------------------------------------
    def relay_dkim_pem(self) -> bytes:
        """The relay's DKIM private key (PKCS#8 PEM), created on first use beside the other keys."""
        with self._lock:
            if self._relay_dkim is None:
                path = self.directory / RELAY_DKIM_FILE
                if not path.exists():
                    key = rsa.generate_private_key(public_exponent=65537, key_size=RELAY_DKIM_BITS)
                    pem = key.private_bytes(
                        serialization.Encoding.PEM,
                        serialization.PrivateFormat.PKCS8,
                        serialization.NoEncryption(),
                    )
                    write_private_file(path, pem)
                try:
                    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
                except (OSError, ValueError) as exc:
                    raise KeyMaterialError(f"cannot read key file {path}: {exc.__class__.__name__}") from exc
                if not isinstance(loaded, rsa.RSAPrivateKey):
                    raise KeyMaterialError(f"{path} is not an RSA key")
                self._relay_dkim = path.read_bytes()
            return self._relay_dkim

    # -- secrets --------------------------------------------------------------------------------------
    def secret(self, name: str) -> bytes:
        if name not in SECRET_NAMES:
            raise KeyError(name)
        if self._secrets is None:
            body = self._read_json(self.directory / SECRETS_FILE)
            try:
                self._secrets = {n: _unb64(v) for n, v in body["secrets"].items()}
            except (KeyError, ValueError, AttributeError) as exc:
                raise KeyMaterialError(f"{self.directory / SECRETS_FILE} is malformed") from exc
        try:
            return self._secrets[name]
        except KeyError as exc:
            raise KeyMaterialError(f"secret {name!r} is missing; run `infomediary init`") from exc

    # -- signing keys ---------------------------------------------------------------------------------
    def signing_keys(self) -> list[SigningKey]:
        """All published signing keys, newest first. Reloads when another process rotated them."""
        path = self.directory / SIGNING_FILE
        try:
            mtime = path.stat().st_mtime
        except FileNotFoundError as exc:
            raise KeyMaterialError(f"no signing keys at {path}; run `infomediary init`") from exc
        with self._lock:
            if self._signing is None or mtime != self._signing_mtime:
                keys = self._load_signing(path)
                public: list[Any] = [k.public_jwk() for k in keys]
                self._verification_keys = KeySet.import_key_set({"keys": public})
                self._current_jwk = KeySet([keys[0].jwk()])
                self._signing = keys
                self._signing_mtime = mtime
            return self._signing

    def verification_keys(self) -> KeySet:
        """Public keys of every published signing key: tokens signed before a rotation stay verifiable."""
        self.signing_keys()
        assert self._verification_keys is not None
        return self._verification_keys

    def current_signing_jwk(self) -> KeySet:
        """The current private signing key as a one-key set, so JWS headers carry its `kid`."""
        self.signing_keys()
        assert self._current_jwk is not None
        return self._current_jwk

    def jwks(self) -> dict[str, Any]:
        return {"keys": [k.public_jwk() for k in self.signing_keys()]}

    def current_signing_key(self) -> SigningKey:
        return self.signing_keys()[0]

    def rotate_signing_key(self, keep: int = 3) -> SigningKey:
        """Add a new current key. Older keys stay published (to verify unexpired tokens) up to `keep`."""
        new = self._new_signing_key()
        keys = [new, *self._load_signing(self.directory / SIGNING_FILE)][:keep]
        self._write_signing(keys)
        self._signing = None
        return new

    def _new_signing_key(self) -> SigningKey:
        return SigningKey(
            kid=secrets.token_hex(8),
            private_key=ec.generate_private_key(ec.SECP256R1()),
            created_at=datetime.now(UTC),
        )

    def _write_signing(self, keys: list[SigningKey]) -> None:
        body = {
            "format": 1,
            "keys": [
                {
                    "kid": k.kid,
                    "created_at": k.created_at.isoformat(),
                    "private_key": k.private_pem().decode(),
                }
                for k in keys
            ],
        }
        write_private_file(self.directory / SIGNING_FILE, json.dumps(body, indent=2).encode())

    def _load_signing(self, path: Path) -> list[SigningKey]:
        body = self._read_json(path)
        keys: list[SigningKey] = []
        try:
            for item in body["keys"]:
                private = serialization.load_pem_private_key(item["private_key"].encode(), password=None)
                if not isinstance(private, ec.EllipticCurvePrivateKey):
                    raise KeyMaterialError(f"{path}: key {item['kid']} is not an EC key")
                keys.append(SigningKey(item["kid"], private, datetime.fromisoformat(item["created_at"])))
        except (KeyError, ValueError, TypeError) as exc:
            raise KeyMaterialError(f"{path} is malformed") from exc
        if not keys:
            raise KeyMaterialError(f"{path} holds no signing key")
        keys.sort(key=lambda k: k.created_at, reverse=True)
        return keys

    @staticmethod
    def _read_json(path: Path) -> Any:
        try:
            return json.loads(path.read_bytes())
        except FileNotFoundError as exc:
            raise KeyMaterialError(f"missing key file {path}; run `infomediary init`") from exc
        except (OSError, ValueError) as exc:
            raise KeyMaterialError(f"cannot read key file {path}: {exc.__class__.__name__}") from exc
