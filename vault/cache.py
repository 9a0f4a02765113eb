"""DataKeyCache: a bounded, expiring, in-memory cache of unwrapped data keys, never persisted.

Entries hold a ready SubjectCipher (the AESGCM object, whose construction expands the key schedule and costs
more than a short encryption, plus the subject's associated-data prefix) and the wrapped key it came from. A
lookup must present that same wrapped key: holding the cached key is then not enough to decrypt, so once the
application deletes a subject's wrapped key (crypto-shredding) no later request can use a copy still cached
in some worker, even before ``forget`` or the TTL reaches it.

Why not ``cachetools.TTLCache``: a hit on it, under the lock it needs, measured about 0.7 µs, more than the
AES-GCM operation it guards, and every field read and write passes here. This cache reads with one lock-free
dictionary lookup and takes the lock only to change entries.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from vault.envelope import SubjectCipher
from vault.keys import WrappedKey

DEFAULT_MAXSIZE = 10_000
DEFAULT_TTL_SECONDS = 300.0


# (the wrapped key it came from, the cipher, when it expires). A plain tuple rather than a NamedTuple: the
# interpreter's fast path for unpacking takes exact tuples only, and every field read and write unpacks one.
_Entry = tuple[WrappedKey, SubjectCipher, float]


class DataKeyCache:
    """At most ``maxsize`` subjects' data keys, each kept at most ``ttl`` seconds after it was added.

    The TTL counts from insertion, not last use, so a key unwrapped once lives a bounded time in memory even
    when used constantly. Every entry lives the same TTL, so insertion order is expiry order; when full, the
    oldest entry, the one nearest to expiring anyway, makes room. ``timer`` must never go backwards.

    Safe to share between threads (FastAPI runs sync endpoints in a thread pool): entries are immutable and
    replaced whole, a single dictionary read is atomic, and every change happens under one lock.
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
        self._maxsize = maxsize
        self._ttl = ttl
        self._timer = timer
        # OrderedDict, not dict: dropping the oldest entry must stay O(1) under constant churn.
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, subject_id: str, wrapped: WrappedKey) -> SubjectCipher | None:
        """The cached cipher for ``subject_id`` if it was cached from this very ``wrapped`` key, else None."""
        # Subscript and unpack, not .get() and attribute names: this runs on every field read and write.
        try:
            entry = self._entries[subject_id]
        except KeyError:
            return None
        cached_wrapped, cipher, expires_at = entry
        if expires_at <= self._timer():
            self._discard(subject_id, entry)
            return None
        # Identity first: a caller that keeps its WrappedKey object skips comparing the bytes.
        if cached_wrapped is wrapped or (
            cached_wrapped.ciphertext == wrapped.ciphertext
            and cached_wrapped.kek_version == wrapped.kek_version
        ):
            return cipher
        return None

    def put(self, subject_id: str, wrapped: WrappedKey, cipher: SubjectCipher) -> None:
        with self._lock:
            now = self._timer()
            # Remove before inserting so the entry moves to the end and insertion order stays expiry order.
            self._entries.pop(subject_id, None)
            self._purge_expired(now)
            while len(self._entries) >= self._maxsize:
                self._entries.popitem(last=False)
            self._entries[subject_id] = (wrapped, cipher, now + self._ttl)

    def forget(self, subject_id: str) -> None:
        """Drop the subject's key, e.g. when crypto-shredding; a no-op if it is not cached."""
        with self._lock:
            self._entries.pop(subject_id, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def expire(self) -> None:
        """Drop every expired entry now, rather than when next touched (e.g. from a periodic task)."""
        with self._lock:
            self._purge_expired(self._timer())

    def __len__(self) -> int:
        self.expire()
        return len(self._entries)

    def __contains__(self, subject_id: object) -> bool:
        entry = self._entries.get(subject_id) if isinstance(subject_id, str) else None
        return entry is not None and entry[2] > self._timer()

    def _discard(self, subject_id: str, entry: _Entry) -> None:
        with self._lock:
            # Another thread may have replaced the entry since it was read; remove only the one seen expired.
            if self._entries.get(subject_id) is entry:
                del self._entries[subject_id]

    def _purge_expired(self, now: float) -> None:
        while self._entries:
            oldest = next(iter(self._entries.values()))
            if oldest[2] > now:
                return
            self._entries.popitem(last=False)
