"""DataKeyCache: a bounded, expiring, in-memory cache of unwrapped data keys, never persisted.

Entries hold the ready AESGCM object (building one expands the key schedule, which costs more than a short
encryption) together with the wrapped key it came from. A lookup must present that same wrapped key: holding
the cached key is then not enough to decrypt, so once the application deletes a subject's wrapped key
(crypto-shredding) no worker can use a copy still cached, even before ``forget`` or the TTL reaches it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from cachetools import TTLCache
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from vault.keys import WrappedKey

DEFAULT_MAXSIZE = 10_000
DEFAULT_TTL_SECONDS = 300.0


class DataKeyCache:
    """LRU of at most ``maxsize`` subjects' data keys, each kept at most ``ttl`` seconds after it was added.

    The TTL counts from insertion, not last use, so a key unwrapped once lives a bounded time in memory even
    when used constantly. Safe to share between threads (FastAPI runs sync endpoints in a thread pool).
    """

    def __init__(
        self,
        maxsize: int = DEFAULT_MAXSIZE,
        ttl: float = DEFAULT_TTL_SECONDS,
        *,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        if ttl <= 0:
            raise ValueError("ttl must be positive")
        self._entries: TTLCache[str, tuple[WrappedKey, AESGCM]] = TTLCache(
            maxsize=maxsize, ttl=ttl, timer=timer
        )
        # cachetools caches are not thread-safe: even a read reorders the LRU list and may expire entries.
        self._lock = threading.Lock()

    def get(self, subject_id: str, wrapped: WrappedKey) -> AESGCM | None:
        """The cached cipher for ``subject_id`` if it was cached from this very ``wrapped`` key, else None."""
        with self._lock:
            entry = self._entries.get(subject_id)
        if entry is None or entry[0] != wrapped:
            return None
        return entry[1]

    def put(self, subject_id: str, wrapped: WrappedKey, cipher: AESGCM) -> None:
        with self._lock:
            self._entries[subject_id] = (wrapped, cipher)

    def forget(self, subject_id: str) -> None:
        """Drop the subject's key, e.g. when crypto-shredding; a no-op if it is not cached."""
        with self._lock:
            self._entries.pop(subject_id, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            self._entries.expire()
            return len(self._entries)

    def __contains__(self, subject_id: object) -> bool:
        with self._lock:
            return subject_id in self._entries
