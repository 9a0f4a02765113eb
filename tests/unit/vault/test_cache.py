"""DataKeyCache: expiry, bound, eviction, and the wrapped-key check on lookup."""

from __future__ import annotations

import threading

import pytest

from tests.unit.vault.conftest import FakeTimer
from vault import DataKeyCache, WrappedKey
from vault.envelope import SubjectCipher, generate_data_key

WRAPPED = WrappedKey(kek_version=1, ciphertext=b"wrapped-a")
OTHER_WRAPPED = WrappedKey(kek_version=1, ciphertext=b"wrapped-b")


def cipher() -> SubjectCipher:
    return SubjectCipher("subject", generate_data_key())


def test_get_returns_what_was_put() -> None:
    cache = DataKeyCache()
    entry = cipher()
    cache.put("s1", WRAPPED, entry)
    assert cache.get("s1", WRAPPED) is entry
    assert cache.get("s2", WRAPPED) is None


def test_lookup_with_another_wrapped_key_misses() -> None:
    cache = DataKeyCache()
    cache.put("s1", WRAPPED, cipher())
    assert cache.get("s1", OTHER_WRAPPED) is None
    assert cache.get("s1", WrappedKey(kek_version=2, ciphertext=WRAPPED.ciphertext)) is None


def test_an_equal_wrapped_key_parsed_afresh_hits() -> None:
    # The application parses the stored wrapped key on every request: a new object with the same bytes.
    cache = DataKeyCache()
    entry = cipher()
    cache.put("s1", WRAPPED, entry)
    assert cache.get("s1", WrappedKey.from_bytes(WRAPPED.to_bytes())) is entry


def test_entries_expire_after_ttl(timer: FakeTimer) -> None:
    cache = DataKeyCache(ttl=60, timer=timer)
    cache.put("s1", WRAPPED, cipher())
    timer.advance(59.9)
    assert cache.get("s1", WRAPPED) is not None
    timer.advance(0.2)
    assert cache.get("s1", WRAPPED) is None
    assert len(cache) == 0


def test_use_does_not_extend_the_ttl(timer: FakeTimer) -> None:
    cache = DataKeyCache(ttl=60, timer=timer)
    cache.put("s1", WRAPPED, cipher())
    for _ in range(5):
        timer.advance(15)
        cache.get("s1", WRAPPED)
    assert cache.get("s1", WRAPPED) is None


def test_size_is_bounded_and_the_oldest_entry_goes_first(timer: FakeTimer) -> None:
    cache = DataKeyCache(maxsize=3, timer=timer)
    for subject in ("a", "b", "c"):
        cache.put(subject, WRAPPED, cipher())
        timer.advance(1)
    cache.put("a", WRAPPED, cipher())  # re-added: now the newest, with a fresh TTL
    cache.put("d", WRAPPED, cipher())
    assert len(cache) == 3
    assert "b" not in cache
    assert all(subject in cache for subject in ("a", "c", "d"))
    timer.advance(299)  # "c" was added 300 s ago (the default TTL), "a" and "d" 1 s later
    assert "c" not in cache
    assert "a" in cache


def test_forget_and_clear() -> None:
    cache = DataKeyCache()
    cache.put("a", WRAPPED, cipher())
    cache.put("b", WRAPPED, cipher())
    cache.forget("a")
    cache.forget("never-cached")
    assert cache.get("a", WRAPPED) is None
    assert cache.get("b", WRAPPED) is not None
    cache.clear()
    assert len(cache) == 0


@pytest.mark.parametrize(("maxsize", "ttl"), [(0, 1.0), (1, 0.0), (1, -1.0)])
def test_rejects_useless_settings(maxsize: int, ttl: float) -> None:
    with pytest.raises(ValueError, match="must be"):
        DataKeyCache(maxsize=maxsize, ttl=ttl)


def test_concurrent_use_keeps_the_bound() -> None:
    cache = DataKeyCache(maxsize=50)
    shared = cipher()
    errors: list[BaseException] = []

    def churn(worker: int) -> None:
        try:
            for i in range(2_000):
                subject = f"{worker}-{i % 80}"
                cache.put(subject, WRAPPED, shared)
                cache.get(subject, WRAPPED)
                if i % 7 == 0:
                    cache.forget(subject)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=churn, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(cache) <= 50


def test_expire_drops_expired_entries_without_a_lookup(timer: FakeTimer) -> None:
    cache = DataKeyCache(ttl=10, timer=timer)
    cache.put("a", WRAPPED, cipher())
    timer.advance(5)
    cache.put("b", WRAPPED, cipher())
    timer.advance(6)
    cache.expire()
    assert list(cache._entries) == ["b"]


# --- which entry leaves first, and when -------------------------------------------------------------------
# The documented order is insertion order (first in, first out), not least-recently-used: a key unwrapped
# once lives a bounded time in memory however often it is used, and insertion order is expiry order.


def test_use_does_not_save_an_entry_from_eviction(timer: FakeTimer) -> None:
    cache = DataKeyCache(maxsize=3, timer=timer)
    for subject in ("a", "b", "c"):
        cache.put(subject, WRAPPED, cipher())
    for _ in range(5):
        assert cache.get("a", WRAPPED) is not None  # the busiest subject is still the oldest
    cache.put("d", WRAPPED, cipher())
    assert "a" not in cache
    assert all(subject in cache for subject in ("b", "c", "d"))


def test_putting_a_key_again_moves_it_behind_the_others(timer: FakeTimer) -> None:
    # Re-put without the cache being full: the entry must still move to the back, or the one after it
    # would be evicted early and, worse, an older entry would sit behind a younger one and escape expiry.
    cache = DataKeyCache(maxsize=3, ttl=100, timer=timer)
    cache.put("a", WRAPPED, cipher())
    timer.advance(10)
    cache.put("b", WRAPPED, cipher())
    timer.advance(10)
    cache.put("a", WRAPPED, cipher())  # re-unwrapped at t=20: expires at t=120, after "b" at t=110
    cache.put("c", WRAPPED, cipher())
    cache.put("d", WRAPPED, cipher())
    assert "b" not in cache
    assert all(subject in cache for subject in ("a", "c", "d"))


def test_an_expired_entry_is_dropped_from_behind_a_re_put_one(timer: FakeTimer) -> None:
    cache = DataKeyCache(maxsize=10, ttl=100, timer=timer)
    cache.put("a", WRAPPED, cipher())
    timer.advance(10)
    cache.put("b", WRAPPED, cipher())
    timer.advance(10)
    cache.put("a", WRAPPED, cipher())
    timer.advance(95)  # t=115: "b" (expired at 110) is gone from memory, "a" (until 120) is not
    assert len(cache) == 1
    assert "a" in cache


def test_a_put_drops_every_expired_key_from_memory_not_just_enough_to_make_room(timer: FakeTimer) -> None:
    # Expired key material is garbage the moment it expires; a put is the natural moment to drop it all.
    cache = DataKeyCache(maxsize=3, ttl=100, timer=timer)
    cache.put("a", WRAPPED, cipher())
    cache.put("b", WRAPPED, cipher())
    timer.advance(50)
    cache.put("c", WRAPPED, cipher())
    timer.advance(50)  # "a" and "b" expire now; "c" has 50 s left
    cache.put("d", WRAPPED, cipher())
    assert list(cache._entries) == ["c", "d"]


def test_the_ttl_ends_exactly_ttl_seconds_after_the_put(timer: FakeTimer) -> None:
    cache = DataKeyCache(ttl=60, timer=timer)
    cache.put("s1", WRAPPED, cipher())
    timer.advance(60)
    assert "s1" not in cache
    assert cache.get("s1", WRAPPED) is None
    cache.put("s2", WRAPPED, cipher())
    timer.advance(60)
    assert len(cache) == 0  # expire() too treats the expiry instant as expired


def test_a_lookup_that_finds_a_key_expired_drops_it_from_memory(timer: FakeTimer) -> None:
    # Key material must not outlive its TTL in memory just because nothing else was put since.
    cache = DataKeyCache(ttl=60, timer=timer)
    cache.put("s1", WRAPPED, cipher())
    timer.advance(61)
    assert cache.get("s1", WRAPPED) is None
    assert "s1" not in cache._entries


def test_an_expired_lookup_keeps_a_fresh_key_put_meanwhile_by_another_thread(timer: FakeTimer) -> None:
    # The lookup reads the entry, then the clock; if another thread re-unwrapped the key in between, the
    # lookup must drop only the entry it saw expired, not the fresh one (which would cost an unwrap).
    cache = DataKeyCache(ttl=60, timer=timer)
    cache.put("s1", WRAPPED, cipher())
    timer.advance(61)
    fresh = cipher()
    racing = True

    def clock_with_a_racing_put() -> float:
        nonlocal racing
        if racing:
            racing = False
            cache.put("s1", WRAPPED, fresh)
        return timer()

    cache._timer = clock_with_a_racing_put
    assert cache.get("s1", WRAPPED) is None  # the entry it read had expired
    assert cache.get("s1", WRAPPED) is fresh


def test_a_cache_of_one_holds_one_key(timer: FakeTimer) -> None:
    cache = DataKeyCache(maxsize=1, ttl=0.5, timer=timer)
    entry = cipher()
    cache.put("a", WRAPPED, entry)
    assert cache.get("a", WRAPPED) is entry
    cache.put("b", WRAPPED, cipher())
    assert "a" not in cache
    assert "b" in cache
    timer.advance(0.5)
    assert "b" not in cache


@pytest.mark.parametrize(
    ("maxsize", "ttl", "message"),
    [(0, 1.0, "maxsize must be at least 1"), (1, 0.0, "ttl must be positive")],
)
def test_useless_settings_are_refused_with_what_is_wrong(maxsize: int, ttl: float, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{message}$"):
        DataKeyCache(maxsize=maxsize, ttl=ttl)


def test_membership_of_something_that_is_not_a_subject_id_is_false() -> None:
    cache = DataKeyCache()
    cache.put("a", WRAPPED, cipher())
    assert ["a"] not in cache  # unhashable: answered, not raised
    assert None not in cache
