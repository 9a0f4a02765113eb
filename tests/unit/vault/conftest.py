"""Shared fixtures for the vault unit tests: key files in temporary directories and a controllable clock."""

from __future__ import annotations

from pathlib import Path

import pytest

from vault import DataKeyCache, LocalKeyring, Vault


class FakeTimer:
    """A monotonic clock the test advances by hand, so TTL tests never sleep."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def key_path(tmp_path: Path) -> Path:
    return tmp_path / "keys" / "keyring.json"


@pytest.fixture
def keyring(key_path: Path) -> LocalKeyring:
    return LocalKeyring(key_path)


@pytest.fixture
def vault(keyring: LocalKeyring) -> Vault:
    return Vault(keyring, DataKeyCache())


@pytest.fixture(scope="module")
def shared_vault(tmp_path_factory: pytest.TempPathFactory) -> Vault:
    """One vault per module, for hypothesis tests (which must not use function-scoped fixtures)."""
    return Vault(LocalKeyring(tmp_path_factory.mktemp("shared") / "keyring.json"))


@pytest.fixture
def timer() -> FakeTimer:
    return FakeTimer()
