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
