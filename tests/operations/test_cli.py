"""The operator's command line, run as an operator would (Typer's runner, real files, real database)."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from infomediary.cli import app
from infomediary.customers.models import Customer
from infomediary.database import create_db_engine
from infomediary.oauth.credentials import hash_secret
from infomediary.runtime import Runtime
from infomediary.settings import Settings
from tests.fixtures.raw_scan import raw_database_bytes

runner = CliRunner()


@pytest.fixture
def operator_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("INFOMEDIARY_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("INFOMEDIARY_DATABASE_URL", raising=False)
    monkeypatch.setenv("INFOMEDIARY_ARGON2_MEMORY_KIB", "1024")
    monkeypatch.setenv("INFOMEDIARY_ARGON2_TIME_COST", "1")
    return tmp_path / "var"


def test_init_creates_private_key_files_and_a_database_at_head(operator_env: Path) -> None:
    result = runner.invoke(app, ["init"])
    assert result.exit_code == 0, result.output
    keys = operator_env / "keys"
    assert stat.S_IMODE(os.stat(keys).st_mode) == 0o700
    for name in ("secrets.json", "signing.json"):
        assert stat.S_IMODE(os.stat(keys / name).st_mode) == 0o600
    assert (operator_env / "infomediary.db").exists()
    again = runner.invoke(app, ["init"])
    assert again.exit_code == 0 and "present" in again.output


def test_commands_refuse_a_database_not_at_head(operator_env: Path) -> None:
    operator_env.mkdir(parents=True)
    result = runner.invoke(app, ["suppliers", "list"])
    assert result.exit_code == 1
    assert "infomediary db upgrade" in result.output.replace("\n", " ")
    served = runner.invoke(app, ["serve", "--port", "1"])
    assert served.exit_code == 1, "serve must refuse before starting a server"


@pytest.mark.committing  # scans the database file: needs what a commit leaves
def test_suppliers_add_prints_credentials_once_and_stores_only_a_hash(operator_env: Path) -> None:
    assert runner.invoke(app, ["init"]).exit_code == 0
    result = runner.invoke(app, ["suppliers", "add", "Acme Books", "--scope", "audiences:read", "--json"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert set(printed) >= {"client_id", "client_secret"}
    from infomediary.runtime import Runtime
    from infomediary.settings import Settings

    runtime = Runtime.create(Settings())
    try:
        raw = raw_database_bytes(runtime)
    finally:
        runtime.close()
    assert printed["client_secret"].encode() not in raw
    assert hash_secret(printed["client_secret"]) in raw  # what is stored is the hash

    listed = json.loads(runner.invoke(app, ["suppliers", "list", "--json"]).stdout)
    assert [s["name"] for s in listed] == ["Acme Books"]
    assert runner.invoke(app, ["suppliers", "suspend", "Acme Books"]).exit_code == 0
    assert json.loads(runner.invoke(app, ["suppliers", "list", "--json"]).stdout)[0]["status"] == "suspended"
    assert runner.invoke(app, ["suppliers", "resume", printed["id"]]).exit_code == 0
    assert json.loads(runner.invoke(app, ["suppliers", "list", "--json"]).stdout)[0]["status"] == "active"


def test_cli_errors_are_clear_and_non_zero(operator_env: Path) -> None:
    assert runner.invoke(app, ["init"]).exit_code == 0
    assert runner.invoke(app, ["suppliers", "add", "Twice"]).exit_code == 0
    duplicate = runner.invoke(app, ["suppliers", "add", "Twice"])
    assert duplicate.exit_code == 1 and "already exists" in duplicate.output
    bad_scope = runner.invoke(app, ["suppliers", "add", "Other", "--scope", "everything:write"])
    assert bad_scope.exit_code == 1 and "unknown supplier scopes" in bad_scope.output
    missing = runner.invoke(app, ["suppliers", "suspend", "Nobody"])
    assert missing.exit_code == 1 and "no supplier" in missing.output


def test_auditors_add_json(operator_env: Path) -> None:
    assert runner.invoke(app, ["init"]).exit_code == 0
    result = runner.invoke(app, ["auditors", "add", "Watchdog", "--json"])
    assert result.exit_code == 0
    assert {"client_id", "client_secret"} <= set(json.loads(result.stdout))


def test_demo_seeds_a_population_and_writes_private_logins(operator_env: Path) -> None:
    result = runner.invoke(app, ["demo", "--customers", "25"])
    assert result.exit_code == 0, result.output
    demo_file = operator_env / "demo.json"
    assert stat.S_IMODE(os.stat(demo_file).st_mode) == 0o600
    summary = json.loads(demo_file.read_text())
    assert summary["customers"] == 25
    engine = create_db_engine(f"sqlite:///{operator_env / 'infomediary.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM customers").scalar() == 25
    engine.dispose()
    again = runner.invoke(app, ["demo", "--customers", "25"])
    assert again.exit_code == 0 and "already seeded" in again.output


def test_keys_rotate_rewraps_every_data_key_and_retires_the_old_version(operator_env: Path) -> None:
    assert runner.invoke(app, ["demo", "--customers", "30"]).exit_code == 0
    before = json.loads(runner.invoke(app, ["keys", "status", "--json"]).output)
    assert before == [{"version": 1, "keys": 30, "current": True, "retired": False}]
    rotated = runner.invoke(app, ["keys", "rotate", "--batch-size", "7", "--retire-old"])
    assert rotated.exit_code == 0, rotated.output
    assert (
        "rewrapped 30 data keys under version 2" in rotated.output and "retired versions: 1" in rotated.output
    )
    after = json.loads(runner.invoke(app, ["keys", "status", "--json"]).output)
    assert after == [
        {"version": 1, "keys": 0, "current": False, "retired": True},
        {"version": 2, "keys": 30, "current": True, "retired": False},
    ]
    table = runner.invoke(app, ["keys", "status"])
    assert table.exit_code == 0 and "keys wrapped" in table.output


def test_keys_status_reports_erasures_and_keys_reconcile_purges_a_customer_without_a_key(
    operator_env: Path,
) -> None:
    assert runner.invoke(app, ["demo", "--customers", "5"]).exit_code == 0

    def said(args: list[str]) -> str:
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        return " ".join(result.output.split())

    assert "erasures: 0 tombstone(s) in the erasure key store; 0 customer(s)" in said(["keys", "status"])
    # What a restore after an erasure leaves: her rows, no erasure key (and the key store's tombstone).
    with Runtime.open(Settings()) as runtime, runtime.read_session_factory() as session:
        customer_id = session.scalars(select(Customer.id).order_by(Customer.id)).first()
        assert customer_id is not None and runtime.vault.shred(customer_id)
    status = said(["keys", "status"])
    assert "1 tombstone(s)" in status and "1 customer(s) in the database whose erasure key is gone" in status
    assert "purged 1 erased customer" in said(["keys", "reconcile"])
    assert "0 customer(s) in the database whose erasure key is gone" in said(["keys", "status"])
    assert "nothing to purge" in said(["keys", "reconcile"])


def test_audit_commands_sign_export_and_verify_the_log(operator_env: Path) -> None:
    assert runner.invoke(app, ["init"]).exit_code == 0
    assert runner.invoke(app, ["suppliers", "add", "Acme"]).exit_code == 0
    assert runner.invoke(app, ["keys", "rotate-signing"]).exit_code == 0
    signed = runner.invoke(app, ["audit", "sign-tree-head"])
    assert signed.exit_code == 0, signed.output
    assert "size 2" in signed.output
    dump = operator_env / "dump.json"
    assert runner.invoke(app, ["audit", "export", "--file", str(dump)]).exit_code == 0
    kinds = [json.loads(base64.b64decode(e))["kind"] for e in json.loads(dump.read_text())["entries"]]
    assert kinds == ["supplier.registered", "keys.signing_rotated"]
    unpinned = runner.invoke(app, ["audit", "verify", "--file", str(dump)])
    assert unpinned.exit_code == 1, unpinned.output
    assert "infomediary audit key" in " ".join(unpinned.output.split())
    published = runner.invoke(app, ["audit", "key"])
    assert published.exit_code == 0, published.output
    verifier_key, fingerprint = published.output.split()
    assert fingerprint.startswith("sha256:") and verifier_key == json.loads(dump.read_text())["verifier_key"]
    verified = runner.invoke(app, ["audit", "verify", "--file", str(dump), "--verifier-key", fingerprint])
    assert verified.exit_code == 0, verified.output
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 1


def test_suppliers_credit_tops_up_once_per_key(operator_env: Path) -> None:
    assert runner.invoke(app, ["init"]).exit_code == 0
    assert runner.invoke(app, ["suppliers", "add", "Paying Co"]).exit_code == 0
    first = runner.invoke(app, ["suppliers", "credit", "Paying Co", "500", "--key", "invoice-1"])
    assert first.exit_code == 0 and "balance 500" in first.stdout
    again = runner.invoke(app, ["suppliers", "credit", "Paying Co", "500", "--key", "invoice-1"])
    assert again.exit_code == 0 and "already credited" in again.stdout and "balance 500" in again.stdout
    other = runner.invoke(app, ["suppliers", "credit", "Paying Co", "700", "--key", "invoice-1"])
    assert other.exit_code != 0
    assert runner.invoke(app, ["suppliers", "credit", "Paying Co", "0"]).exit_code != 0


def test_offers_settle_runs_and_can_run_again(operator_env: Path) -> None:
    assert runner.invoke(app, ["init"]).exit_code == 0
    for _ in range(2):
        result = runner.invoke(app, ["offers", "settle"])
        assert result.exit_code == 0, result.output
        assert "settled 0 expired offer(s)" in result.stdout


def test_events_deliver_runs_once_and_refuses_a_database_not_at_head(operator_env: Path) -> None:
    operator_env.mkdir(parents=True)
    refused = runner.invoke(app, ["events", "deliver"])
    assert refused.exit_code == 1 and "infomediary db upgrade" in refused.output.replace("\n", " ")
    assert runner.invoke(app, ["init"]).exit_code == 0
    result = runner.invoke(app, ["events", "deliver"])
    assert result.exit_code == 0, result.output
    assert "delivered 0, retrying 0, failed 0, dropped 0" in result.output
