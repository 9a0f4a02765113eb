"""Crypto-shredding defeats backups: a copy of the database taken before an erasure, restored afterwards
with the current key material, no longer decrypts the erased customer (while others still read)."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from infomediary import schema
from infomediary.database import unit_of_work
from infomediary.profiles import service as profiles
from infomediary.profiles.errors import VaultUnreadable
from infomediary.runtime import Runtime
from tests.conftest import ISSUER, make_settings
from tests.fixtures.actors import erase, make_consumer
from vault import DataKeyDestroyed


def _checkpointed_copy(database: Path, copy: Path) -> None:
    conn = sqlite3.connect(database)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    shutil.copyfile(database, copy)


def _values(runtime: Runtime, customer_id: str) -> dict[str, object]:
    with unit_of_work(runtime.read_session_factory) as session:
        return profiles.stored_values(session, runtime, customer_id)


def test_backup_taken_before_erasure_is_unreadable_after_it(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    database = tmp_path / "live.db"
    live = Runtime.create(make_settings(data_dir, f"sqlite:///{database}"))
    live.keys.ensure()
    schema.upgrade(live.engine)
    with TestClient(create_app(runtime=live), base_url=ISSUER) as http:
        ada, bob = make_consumer(http), make_consumer(http)
        for consumer in (ada, bob):
            response = http.patch(
                "/v1/me/profile",
                headers=consumer.headers,
                json={"given_name": "Secret", "health_conditions": ["asthma"]},
            )
            assert response.status_code == 200

        backup = tmp_path / "backup-before-erasure.db"
        _checkpointed_copy(database, backup)
        assert erase(http, ada.headers).status_code == 200

    # Restore the backup, next to the current key material (same key directory), in a fresh process.
    restored = Runtime.create(make_settings(data_dir, f"sqlite:///{backup}"))
    try:
        assert _values(restored, bob.id)["given_name"] == "Secret", "the restore must work for others"
        with pytest.raises(VaultUnreadable) as caught:
            _values(restored, ada.id)
        assert isinstance(caught.value.__cause__, DataKeyDestroyed)
        assert "crypto-shredded" in str(caught.value)
    finally:
        restored.close()


def test_the_backup_was_readable_before_the_erasure(tmp_path: Path) -> None:
    """The control: without the erasure the same procedure reads the customer back, so the test above
    fails for the reason it claims."""
    data_dir = tmp_path / "var"
    database = tmp_path / "live.db"
    live = Runtime.create(make_settings(data_dir, f"sqlite:///{database}"))
    live.keys.ensure()
    schema.upgrade(live.engine)
    with TestClient(create_app(runtime=live), base_url=ISSUER) as http:
        ada = make_consumer(http)
        http.patch("/v1/me/profile", headers=ada.headers, json={"given_name": "Secret"})
        backup = tmp_path / "backup.db"
        _checkpointed_copy(database, backup)
    restored = Runtime.create(make_settings(data_dir, f"sqlite:///{backup}"))
    try:
        assert _values(restored, ada.id)["given_name"] == "Secret"
    finally:
        restored.close()
