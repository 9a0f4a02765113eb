"""Operators are created from the command line, and the demo prints one for each kind of page."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from infomediary.cli import app
from infomediary.database import unit_of_work
from infomediary.operators import service as operators
from infomediary.operators.models import OperatorKind
from infomediary.runtime import Runtime
from infomediary.settings import Settings

runner = CliRunner()
PASSWORD = "a long operator passphrase"


@pytest.fixture
def operator_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("INFOMEDIARY_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("INFOMEDIARY_DATABASE_URL", raising=False)
    monkeypatch.setenv("INFOMEDIARY_ARGON2_MEMORY_KIB", "1024")
    monkeypatch.setenv("INFOMEDIARY_ARGON2_TIME_COST", "1")
    return tmp_path / "var"


def _can_log_in(kind: OperatorKind, login: str, password: str) -> bool:
    with Runtime.open(Settings()) as runtime, unit_of_work(runtime.session_factory) as session:
        issued = operators.login(
            session, runtime, kind=kind, login=login, password=password, client_address="cli-test"
        )
        return operators.authenticate(session, issued.token, kind).owner_name != ""


def test_add_operator_prompts_for_the_password_twice_and_it_works(operator_env: Path) -> None:
    assert runner.invoke(app, ["init"]).exit_code == 0
    assert runner.invoke(app, ["suppliers", "add", "Acme"]).exit_code == 0
    mismatch = runner.invoke(
        app, ["suppliers", "add-operator", "Acme", "ops@acme.example"], input=f"{PASSWORD}\nother\n"
    )
    assert mismatch.exit_code != 0
    added = runner.invoke(
        app, ["suppliers", "add-operator", "Acme", "ops@acme.example"], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert added.exit_code == 0, added.output
    assert "/supplier" in added.output and PASSWORD not in added.output
    assert _can_log_in(OperatorKind.SUPPLIER, "ops@acme.example", PASSWORD)

    again = runner.invoke(
        app, ["suppliers", "add-operator", "Acme", "ops@acme.example"], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert again.exit_code == 1 and "already exists" in again.output
    disabled = runner.invoke(app, ["suppliers", "disable-operator", "ops@acme.example"])
    assert disabled.exit_code == 0, disabled.output


def test_auditor_operator_with_a_generated_password_printed_once(operator_env: Path) -> None:
    assert runner.invoke(app, ["init"]).exit_code == 0
    assert runner.invoke(app, ["auditors", "add", "Watchdog"]).exit_code == 0
    result = runner.invoke(
        app, ["auditors", "add-operator", "Watchdog", "eve@audit.example", "--generate-password", "--json"]
    )
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["kind"] == "auditor" and len(shown["password"]) >= 20
    assert _can_log_in(OperatorKind.AUDITOR, "eve@audit.example", shown["password"])
    unknown = runner.invoke(
        app, ["auditors", "add-operator", "Nobody", "x@audit.example", "--generate-password"]
    )
    assert unknown.exit_code == 1 and "no auditor" in unknown.output


def test_demo_prints_a_supplier_and_an_auditor_operator_who_can_sign_in(operator_env: Path) -> None:
    result = runner.invoke(app, ["demo", "--customers", "3"])
    assert result.exit_code == 0, result.output
    summary = json.loads((operator_env / "demo.json").read_text())
    for key, kind, path in (
        ("supplier_operator", OperatorKind.SUPPLIER, "/supplier"),
        ("auditor_operator", OperatorKind.AUDITOR, "/audit"),
    ):
        login = summary[key]
        assert login["url"].endswith(path) and login["password"] in result.output
        assert _can_log_in(kind, login["login"], login["password"])
