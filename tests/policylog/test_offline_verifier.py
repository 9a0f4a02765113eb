"""The offline verifier catches a tampered database and a rolled-back log, from a file and over HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from infomediary.policylog import treehead
from infomediary.policylog.checkpoint import verifier_key_string
from infomediary.policylog.export import export_dump
from infomediary.policylog.offline_verifier import SeenHead, VerificationFailed, verify_dump, verify_remote
from infomediary.runtime import Runtime
from tests.fixtures.actors import Client, make_auditor
from tests.fixtures.policylog import fill_log, sign_head, tamper, truncate


def _dump(runtime: Runtime) -> dict[str, object]:
    with runtime.read_session_factory() as session:
        return export_dump(session, runtime)


def _remote(
    http: TestClient, auditor: Client, runtime: Runtime, previous: SeenHead | None = None
) -> SeenHead:
    result = verify_remote(
        http,
        client_id=auditor.client_id,
        client_secret=auditor.client_secret,
        verifier_key=treehead.verifier_key(runtime),
        previous=previous,
    )
    return result.head


def test_an_untouched_log_verifies_from_a_file_and_over_http(runtime: Runtime, http: TestClient) -> None:
    fill_log(runtime, 1500)  # more than one page of entries
    sign_head(runtime)
    key = treehead.verifier_key(runtime)
    result = verify_dump(_dump(runtime), verifier_key=key)
    assert (result.entries, result.head.tree_size, result.head.verifier_key) == (1500, 1500, key)
    assert not result.pinned_on_first_use
    auditor = make_auditor(runtime)
    assert _remote(http, auditor, runtime).tree_size == 1500


@pytest.mark.parametrize("how", ["change", "delete", "reorder", "insert"])
def test_tampering_with_one_entry_is_detected(runtime: Runtime, http: TestClient, how: str) -> None:
    fill_log(runtime, 40)
    sign_head(runtime)
    auditor = make_auditor(runtime)
    tamper(runtime, how)
    with pytest.raises(VerificationFailed):
        verify_dump(_dump(runtime), verifier_key=treehead.verifier_key(runtime))
    with pytest.raises(VerificationFailed):
        _remote(http, auditor, runtime)


def test_a_forged_signature_or_another_key_is_detected(runtime: Runtime) -> None:
    fill_log(runtime, 3)
    sign_head(runtime)
    dump = _dump(runtime)
    head = dict(dump["tree_head"])  # type: ignore[call-overload]
    head["checkpoint"] = head["checkpoint"].replace("\n3\n", "\n2\n", 1)
    key = treehead.verifier_key(runtime)
    with pytest.raises(VerificationFailed, match="signature"):
        verify_dump({**dump, "tree_head": head}, verifier_key=key)
    other = verifier_key_string(key.split("+", 1)[0], Ed25519PrivateKey.generate().public_key())
    with pytest.raises(VerificationFailed, match="signature"):
        verify_dump(dump, verifier_key=other)
    with pytest.raises(VerificationFailed, match="no verifier key is pinned"):
        verify_dump(dump)  # the dump's own key is no pin


def test_a_rolled_back_log_is_detected_against_a_head_seen_before(runtime: Runtime, http: TestClient) -> None:
    auditor = make_auditor(runtime)
    fill_log(runtime, 20)
    sign_head(runtime)
    seen_20 = _remote(http, auditor, runtime)
    fill_log(runtime, 10, start=20)
    sign_head(runtime)
    seen_30 = _remote(http, auditor, runtime, previous=seen_20)  # a consistent extension passes
    assert seen_30.tree_size == 30

    truncate(runtime, 20)  # the older backup is restored
    with pytest.raises(VerificationFailed, match="rollback"):
        _remote(http, auditor, runtime, previous=seen_30)
    with pytest.raises(VerificationFailed, match="rollback"):
        verify_dump(_dump(runtime), verifier_key=treehead.verifier_key(runtime), previous=seen_30)

    fill_log(runtime, 15, start=100)  # ...and grows again past the size seen before: a fork
    sign_head(runtime)
    with pytest.raises(VerificationFailed, match="rolled back or forked"):
        _remote(http, auditor, runtime, previous=seen_30)
    with pytest.raises(VerificationFailed, match="rolled back or forked"):
        verify_dump(_dump(runtime), verifier_key=treehead.verifier_key(runtime), previous=seen_30)


def test_the_command_line_verifies_a_file_and_keeps_state(runtime: Runtime, tmp_path: Path) -> None:
    from infomediary.cli import app

    fill_log(runtime, 7)
    sign_head(runtime)
    dump_path, state = tmp_path / "dump.json", tmp_path / "state.json"
    dump_path.write_text(json.dumps(_dump(runtime)))
    key = treehead.verifier_key(runtime)
    runner = CliRunner()
    args = ["audit", "verify", "--file", str(dump_path), "--verifier-key", key, "--state", str(state)]
    ok = runner.invoke(app, args)
    assert ok.exit_code == 0, ok.output
    assert json.loads(state.read_text())["tree_size"] == 7
    tamper(runtime, "change", at=2)
    dump_path.write_text(json.dumps(_dump(runtime)))
    bad = runner.invoke(app, args)
    assert bad.exit_code == 1
    assert "VERIFICATION FAILED" in bad.output
    assert json.loads(state.read_text())["tree_size"] == 7, "a failed run must not advance the state"
