"""Exceptions raised by the vault library.

Messages name the context (subject, field, key version, key file) so an operator can act on them, and never
carry plaintext or key bytes, because exception text ends up in logs and error reports.
"""

from __future__ import annotations

from pathlib import Path


class VaultError(Exception):
    """Base class of every error the vault raises on purpose."""


class KeyFileError(VaultError):
    """The key file is unreadable, malformed, or unsafe to use."""

    def __init__(self, path: Path, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"key file {str(path)!r}: {problem}")


class UnknownKeyVersion(VaultError):
    """No key-encryption key with this version exists, even after reloading the key file."""

    def __init__(self, version: int) -> None:
        self.version = version
        super().__init__(f"key-encryption key version {version} is unknown")


class KeyVersionRetired(VaultError):
    """The key-encryption key version was retired and may no longer unwrap data keys."""

    def __init__(self, version: int) -> None:
        self.version = version
        super().__init__(
            f"key-encryption key version {version} is retired; data keys still wrapped under it "
            "were not rewrapped before retirement"
        )


class RetirementRefused(VaultError):
    """Retiring this key version would leave no key to wrap new data keys with."""

    def __init__(self, version: int) -> None:
        self.version = version
        super().__init__(
            f"key-encryption key version {version} is the current version and cannot be retired; rotate first"
        )


class DecryptionFailed(VaultError):
    """Ciphertext or a wrapped key did not authenticate: tampered, truncated, moved, or under the wrong key.

    The reason is deliberately coarse. Telling apart "wrong key" from "tampered" is neither possible with
    AES-GCM nor useful to an attacker-facing caller.
    """

    def __init__(self, reason: str, *, subject_id: str | None = None, field: str | None = None) -> None:
        self.reason = reason
        self.subject_id = subject_id
        self.field = field
        context = []
        if subject_id is not None:
            context.append(f"subject {subject_id!r}")
        if field is not None:
            context.append(f"field {field!r}")
        where = f" ({', '.join(context)})" if context else ""
        super().__init__(f"decryption failed{where}: {reason}")

    def with_context(self, *, subject_id: str, field: str | None = None) -> DecryptionFailed:
        """Return the same failure, now naming the subject and field the caller was working on."""
        return DecryptionFailed(self.reason, subject_id=subject_id, field=field)


class DataKeyDestroyed(DecryptionFailed):
    """The subject was crypto-shredded: its erasure key is gone, so none of its ciphertext can be opened."""

    def __init__(self, subject_id: str) -> None:
        super().__init__(
            "the subject's erasure key has been destroyed (crypto-shredded); its data is unrecoverable",
            subject_id=subject_id,
        )
