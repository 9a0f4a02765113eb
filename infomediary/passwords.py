"""Password hashing with argon2id (argon2-cffi), and a dummy verification that evens out login timing."""

from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from infomediary.offload import off_the_loop
from infomediary.settings import Settings


class Passwords:
    def __init__(self, settings: Settings) -> None:
        self._hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
            type=Type.ID,
        )
        # Verified against when the account does not exist, so unknown emails cost as much as wrong passwords.
        self._dummy_hash = self._hasher.hash("not a real password, only for constant work")

    def hash(self, password: str) -> str:
        # argon2 holds the CPU (and its memory cost) for tens of milliseconds: never on the event loop.
        return off_the_loop(self._hasher.hash, password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        return off_the_loop(self._verify, password_hash, password)

    def _verify(self, password_hash: str | None, password: str) -> bool:
        try:
            return (
                self._hasher.verify(password_hash or self._dummy_hash, password) and password_hash is not None
            )
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)
