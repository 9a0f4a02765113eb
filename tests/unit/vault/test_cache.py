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
