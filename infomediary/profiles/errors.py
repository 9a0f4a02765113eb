"""Errors of the customer's vault."""

from __future__ import annotations

from infomediary.errors import DomainError, NotFound, ServiceUnavailable


class InvalidProfile(DomainError):
    status = 422
    slug = "invalid-profile"
    title = "The profile change is not valid"


class CustomerKeyMissing(NotFound):
    slug = "customer-key-missing"
    title = "The customer has no data key (never created, or erased)"


class VaultUnreadable(ServiceUnavailable):
    """A stored value did not decrypt: tampering, a misplaced ciphertext, or the wrong key material."""

    slug = "vault-unreadable"
    title = "Stored data could not be decrypted"


class CustomerShredded(VaultUnreadable):
    """The customer's erasure key is gone: she was erased, and her rows are back from a backup taken before.

    Still a 503 on her own routes (the rows must be purged). Reads over many customers skip her, as they
    skip an erased customer: one restored row must not make a slice or a training run fail for everyone.
    """
