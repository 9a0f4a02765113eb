"""The customer vault: key providers, envelope encryption and crypto-shredding.

Knows nothing of consent or HTTP.
"""

from vault.cache import DataKeyCache
from vault.envelope import SubjectCipher, field_aad, generate_data_key
from vault.erasure_keys import ErasureKeyStore, LocalErasureKeyStore, derive_field_key
from vault.errors import (
    DataKeyDestroyed,
    DecryptionFailed,
    KeyFileError,
    KeyVersionRetired,
    RetirementRefused,
    UnknownKeyVersion,
    VaultError,
)
from vault.keys import KeyProvider, KeyVersionInfo, WrappedKey
from vault.local_keyring import LocalKeyring
from vault.vault import Vault

__all__ = [
    "DataKeyCache",
    "DataKeyDestroyed",
    "DecryptionFailed",
    "ErasureKeyStore",
    "KeyFileError",
    "KeyProvider",
    "KeyVersionInfo",
    "KeyVersionRetired",
    "LocalErasureKeyStore",
    "LocalKeyring",
    "RetirementRefused",
    "SubjectCipher",
    "UnknownKeyVersion",
    "Vault",
    "VaultError",
    "WrappedKey",
    "derive_field_key",
    "field_aad",
    "generate_data_key",
]
