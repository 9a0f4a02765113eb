"""Backups as an operator takes and restores them: `infomediary backup` while the service writes, the key
directory backed up apart, `infomediary restore` into a fresh data directory, every profile read back
through the API, and crypto-shredding still in force against a backup older than an erasure."""

from __future__ import annotations

import os
import shutil
import stat
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from infomediary import schema
from infomediary.cli import app as cli
from infomediary.runtime import Runtime
from tests.conftest import ISSUER, make_settings
from tests.fixtures.actors import Consumer, erase, make_consumer

# Real commits on the real engines: this module's tests race connections or read what a commit leaves.
pytestmark = pytest.mark.committing

runner = CliRunner()


def _env(data_dir: Path, keys_dir: Path | None = None) -> dict[str, str]:
    env = {"INFOMEDIARY_DATA_DIR": str(data_dir), "INFOMEDIARY_DATABASE_URL": ""}
    env["INFOMEDIARY_KEYS_DIR"] = str(keys_dir or data_dir / "keys")
    return env


def _invoke(args: list[str], env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    for name, value in env.items():
        if value:
            monkeypatch.setenv(name, value)
        else:
            monkeypatch.delenv(name, raising=False)
    result = runner.invoke(cli, args)
    return result.exit_code, " ".join(result.output.split())


def _live(data_dir: Path) -> Runtime:
    runtime = Runtime.create(make_settings(data_dir, f"sqlite:///{data_dir / 'infomediary.db'}"))
    runtime.keys.ensure()
    schema.upgrade(runtime.engine)
    return runtime


def _profile(index: int) -> dict[str, object]:
    # Distinct values per customer, so a restore that mixed customers up would be caught.
    return {"given_name": f"Backup{index:03d}", "occupation": f"occupation-{index}", "interests": ["books"]}


def _restored_app(data_dir: Path, keys_dir: Path) -> Runtime:
    return Runtime.create(
        make_settings(data_dir, f"sqlite:///{data_dir / 'infomediary.db'}", keys_dir=keys_dir)
    )


def _log_in(http: TestClient, consumer: Consumer) -> dict[str, str]:
    response = http.post("/v1/session", json={"email": consumer.email, "password": consumer.password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_a_backup_taken_while_the_service_writes_restores_every_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    live_dir, backups, key_backups = tmp_path / "var", tmp_path / "backups", tmp_path / "key-backups"
    backups.mkdir()
    live = _live(live_dir)
    stop = threading.Event()
    with TestClient(create_app(runtime=live), base_url=ISSUER) as http:
        consumers = [make_consumer(http) for _ in range(12)]
        for index, consumer in enumerate(consumers):
            assert http.patch("/v1/me/profile", headers=consumer.headers, json=_profile(index)).is_success
        busy = make_consumer(http)

        def keep_writing() -> None:
            n = 0
            while not stop.is_set():
                n += 1
                http.patch("/v1/me/profile", headers=busy.headers, json={"occupation": f"busy-{n}"})

        writer = threading.Thread(target=keep_writing)
        writer.start()
        try:
            code, output = _invoke(["backup", str(backups)], _env(live_dir), monkeypatch)
            key_code, key_output = _invoke(
                ["backup-keys", str(key_backups / "k1")], _env(live_dir), monkeypatch
            )
        finally:
            stop.set()
            writer.join()
    live.close()
    assert code == 0, output
    assert key_code == 0, key_output
    (backup,) = backups.iterdir()
    assert stat.S_IMODE(os.stat(backup).st_mode) == 0o600
    assert "key material not included" in output
    assert not {p.name for p in backups.iterdir()} & {"keyring.json", "erasure_keys.sqlite3", "secrets.json"}
    assert stat.S_IMODE(os.stat(key_backups / "k1").st_mode) == 0o700

    # A new machine: the key backup is put in place first, then the database backup is restored.
    fresh_dir = tmp_path / "elsewhere" / "var"
    fresh_keys = tmp_path / "elsewhere" / "keys"
    shutil.copytree(key_backups / "k1", fresh_keys)
    code, output = _invoke(["restore", str(backup)], _env(fresh_dir, fresh_keys), monkeypatch)
    assert code == 0, output
    restored = _restored_app(fresh_dir, fresh_keys)
    try:
        with TestClient(create_app(runtime=restored), base_url=ISSUER) as http:
            for index, consumer in enumerate(consumers):
                response = http.get("/v1/me/profile", headers=_log_in(http, consumer))
                assert response.status_code == 200, response.text
                fields = {f["key"]: f["value"] for f in response.json()["fields"]}
                assert fields["given_name"] == f"Backup{index:03d}"
                assert fields["occupation"] == f"occupation-{index}"
            busy_profile = http.get("/v1/me/profile", headers=_log_in(http, busy))
            assert busy_profile.status_code == 200, "the write going on during the backup left it readable"
    finally:
        restored.close()


def test_a_customer_erased_after_the_backup_stays_erased_after_restoring_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    live_dir, backups = tmp_path / "var", tmp_path / "backups"
    backups.mkdir()
    live = _live(live_dir)
    with TestClient(create_app(runtime=live), base_url=ISSUER) as http:
        ada, bob = make_consumer(http), make_consumer(http)
        for index, consumer in enumerate((ada, bob)):
            assert http.patch("/v1/me/profile", headers=consumer.headers, json=_profile(index)).is_success
        code, output = _invoke(["backup", str(backups / "before.db")], _env(live_dir), monkeypatch)
        assert code == 0, output
        assert erase(http, ada.headers).status_code == 200
    live.close()

    # The old database backup comes back; the keys are today's (taken after the erasure).
    fresh_dir = tmp_path / "restored" / "var"
    code, output = _invoke(
        ["restore", str(backups / "before.db")], _env(fresh_dir, live_dir / "keys"), monkeypatch
    )
    assert code == 0, output
    # The restore found her rows back without her erasure key, and purged them.
    assert "purged 1 erased customer" in " ".join(output.split()), output
    restored = _restored_app(fresh_dir, live_dir / "keys")
    try:
        with TestClient(create_app(runtime=restored), base_url=ISSUER) as http:
            bob_profile = http.get("/v1/me/profile", headers=_log_in(http, bob))
            assert bob_profile.status_code == 200
            # Ada is gone again: her password does not log in, her old session does not work.
            login = http.post("/v1/session", json={"email": ada.email, "password": ada.password})
            assert login.status_code == 401, login.text
            assert http.get("/v1/me", headers=ada.headers).status_code == 401
    finally:
        restored.close()


def test_backup_refuses_key_locations_overwrites_and_postgresql(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    live_dir = tmp_path / "var"
    _live(live_dir).close()
    env = _env(live_dir)
    refusals = {
        "into the key directory": str(live_dir / "keys" / "b.db"),
        "holds the key directory": str(live_dir / "b.db"),
    }
    for expected, destination in refusals.items():
        code, output = _invoke(["backup", destination], env, monkeypatch)
        assert code == 1 and expected in output, output
        assert not Path(destination).exists()

    beside_keys = tmp_path / "mixed"
    shutil.copytree(live_dir / "keys", beside_keys)
    code, output = _invoke(["backup", str(beside_keys / "b.db")], env, monkeypatch)
    assert code == 1 and "next to key material" in output, output

    first = tmp_path / "one.db"
    assert _invoke(["backup", str(first)], env, monkeypatch)[0] == 0
    before = first.read_bytes()
    code, output = _invoke(["backup", str(first)], env, monkeypatch)
    assert code == 1 and "refusing to overwrite" in output and first.read_bytes() == before

    code, output = _invoke(["backup-keys", str(tmp_path)], env, monkeypatch)
    assert code == 1 and "exists" in output

    postgres = {**env, "INFOMEDIARY_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"}
    code, output = _invoke(["backup", str(tmp_path / "pg.db")], postgres, monkeypatch)
    assert code == 1 and "pg_dump" in output


def test_restore_needs_the_keys_first_and_never_overwrites_silently(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    live_dir = tmp_path / "var"
    _live(live_dir).close()
    backup = tmp_path / "b.db"
    assert _invoke(["backup", str(backup)], _env(live_dir), monkeypatch)[0] == 0

    empty = tmp_path / "empty" / "var"
    code, output = _invoke(["restore", str(backup)], _env(empty), monkeypatch)
    assert code == 1 and "restore the key backup there first" in output
    assert not (empty / "infomediary.db").exists()

    code, output = _invoke(["restore", str(backup)], _env(live_dir), monkeypatch)
    assert code == 1 and "--replace" in output
    assert _invoke(["restore", "--replace", str(backup)], _env(live_dir), monkeypatch)[0] == 0

    not_a_backup = tmp_path / "notes.db"
    not_a_backup.write_bytes(b"not a database")
    code, output = _invoke(["restore", "--replace", str(not_a_backup)], _env(live_dir), monkeypatch)
    assert code == 1 and "not an infomediary database backup" in output
