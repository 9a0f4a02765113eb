"""`audit verify` trusts no key on first sight: a dump or a server that brings its own key proves nothing,
since a truncated log re-signed with another key is self-consistent. The key is pinned by the auditor, by a
state file, or (over HTTP, into a state file) on first use, saying so."""

from __future__ import annotations

import base64
import json
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from infomediary.cli import app
from infomediary.policylog import cli as audit_cli
from infomediary.policylog import treehead
from infomediary.policylog.checkpoint import Checkpoint, format_checkpoint, sign_note, verifier_key_string
from infomediary.policylog.export import export_dump
from infomediary.policylog.merkle import ReferenceTree
from infomediary.policylog.offline_verifier import key_fingerprint
from infomediary.runtime import Runtime
from tests.fixtures.actors import make_auditor
from tests.fixtures.policylog import fill_log, sign_head

runner = CliRunner()


def _dump(runtime: Runtime) -> dict[str, Any]:
    with runtime.read_session_factory() as session:
        return export_dump(session, runtime)


def _resigned(dump: dict[str, Any], size: int, key: Ed25519PrivateKey) -> dict[str, Any]:
    """The issue's attack: keep the first `size` entries and sign a fresh head over them with another key,
    under the same origin, carrying that key in the dump. Every check but the key's identity passes."""
    entries = dump["entries"][:size]
    tree = ReferenceTree()
    for text in entries:
        tree.append_entry(base64.b64decode(text))
    origin = dump["verifier_key"].split("+", 1)[0]
    stamp = int(time.time() * 1000)
    body = format_checkpoint(Checkpoint(origin, size, tree.root(), (f"timestamp {stamp}",)))
    head = {
        "tree_size": size,
        "timestamp": stamp,
        "sha256_root_hash": base64.b64encode(tree.root()).decode(),
        "checkpoint": sign_note(body, origin, key),
    }
    vkey = verifier_key_string(origin, key.public_key())
    return {**dump, "entries": entries, "tree_head": head, "verifier_key": vkey}


def _write(path: Path, dump: dict[str, Any]) -> Path:
    path.write_text(json.dumps(dump))
    return path


def _said(result: Result) -> str:
    # Rich wraps long lines at the terminal width; compare words, not line breaks.
    return " ".join(result.output.split())


def _verify_file(path: Path, *extra: str) -> Result:
    return runner.invoke(app, ["audit", "verify", "--file", str(path), *extra])


def test_a_truncated_dump_resigned_with_another_key_fails_pinned_or_not(
    runtime: Runtime, tmp_path: Path
) -> None:
    fill_log(runtime, 12)
    sign_head(runtime)
    dump = _dump(runtime)
    key = treehead.verifier_key(runtime)
    honest = _write(tmp_path / "honest.json", dump)
    forged = _write(tmp_path / "forged.json", _resigned(dump, 8, Ed25519PrivateKey.generate()))

    unpinned = _verify_file(forged)
    assert unpinned.exit_code == 1, unpinned.output
    assert "no verifier key is pinned" in _said(unpinned)
    for pin in (key, key_fingerprint(key)):
        refused = _verify_file(forged, "--verifier-key", pin)
        assert refused.exit_code == 1, refused.output
        assert "VERIFICATION FAILED" in refused.output
        passed = _verify_file(honest, "--verifier-key", pin)
        assert passed.exit_code == 0, passed.output
        assert "entries recomputed" in _said(passed)


def test_a_file_without_a_pinned_key_or_state_fails_saying_how_to_pin(
    runtime: Runtime, tmp_path: Path
) -> None:
    fill_log(runtime, 3)
    sign_head(runtime)
    honest = _write(tmp_path / "dump.json", _dump(runtime))
    state = tmp_path / "state.json"
    for extra in ((), ("--state", str(state))):  # a state file not written yet pins nothing
        refused = _verify_file(honest, *extra)
        assert refused.exit_code == 1, refused.output
        said = _said(refused)
        assert "--verifier-key" in said and "fingerprint" in said and "infomediary audit key" in said
        assert "--state" in said
        assert not state.exists(), "a refused run must not write a state"
    # A state file from before keys were pinned holds a head but no key: still nothing pinned.
    head = _dump(runtime)["tree_head"]
    state.write_text(
        json.dumps(
            {
                "format": "infomediary-policy-log-state/1",
                "origin": treehead.verifier_key(runtime).split("+", 1)[0],
                "tree_size": head["tree_size"],
                "sha256_root_hash": head["sha256_root_hash"],
                "checkpoint": head["checkpoint"],
            }
        )
    )
    assert _verify_file(honest, "--state", str(state)).exit_code == 1


def test_the_state_pins_the_key_and_a_later_run_refuses_another(runtime: Runtime, tmp_path: Path) -> None:
    fill_log(runtime, 10)
    sign_head(runtime)
    dump = _dump(runtime)
    key = treehead.verifier_key(runtime)
    honest = _write(tmp_path / "honest.json", dump)
    state = tmp_path / "state.json"

    first = _verify_file(honest, "--verifier-key", key_fingerprint(key), "--state", str(state))
    assert first.exit_code == 0, first.output
    saved = json.loads(state.read_text())
    assert (saved["verifier_key"], saved["verifier_key_fingerprint"]) == (key, key_fingerprint(key))

    again = _verify_file(honest, "--state", str(state))  # the state alone is the pin now
    assert again.exit_code == 0, again.output

    # Self-consistent, the same entries, and consistent with the head seen: only the key differs.
    other = Ed25519PrivateKey.generate()
    forged = _write(tmp_path / "forged.json", _resigned(dump, 10, other))
    refused = _verify_file(forged, "--state", str(state))
    assert refused.exit_code == 1, refused.output
    said = _said(refused)
    assert f"not the key pinned in the state file, {key_fingerprint(key)}" in said
    assert "must publish the new key" in said
    other_key = json.loads(forged.read_text())["verifier_key"]
    overridden = _verify_file(forged, "--verifier-key", other_key, "--state", str(state))
    assert overridden.exit_code == 1, overridden.output
    assert "the state file pinned" in _said(overridden)
    assert json.loads(state.read_text()) == saved


def _verify_url(auditor_id: str, secret: str, *extra: str) -> Result:
    args = ["audit", "verify", "--url", "http://testserver", "--client-id", auditor_id, *extra]
    return runner.invoke(app, args, env={"INFOMEDIARY_AUDIT_CLIENT_SECRET": secret})


def test_url_pins_the_served_key_on_first_use_and_refuses_a_changed_one(
    runtime: Runtime, http: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit_cli, "_client", lambda url: nullcontext(http))
    auditor = make_auditor(runtime)
    fill_log(runtime, 9)
    sign_head(runtime)
    key = treehead.verifier_key(runtime)
    state = tmp_path / "state.json"

    unpinned = _verify_url(auditor.client_id, auditor.client_secret)  # no state to pin into
    assert unpinned.exit_code == 1, unpinned.output
    assert "no verifier key is pinned" in _said(unpinned)

    first = _verify_url(auditor.client_id, auditor.client_secret, "--state", str(state))
    assert first.exit_code == 0, first.output
    assert (
        f"pinned key {key_fingerprint(key)} on first use (in {state}); "
        "compare it with the operator's published fingerprint"
    ) in _said(first)
    assert json.loads(state.read_text())["verifier_key"] == key

    second = _verify_url(auditor.client_id, auditor.client_secret, "--state", str(state))
    assert second.exit_code == 0, second.output
    assert "on first use" not in _said(second)

    # The server now signs with, and publishes, another key: a fresh and self-consistent log, but not the one.
    other = Ed25519PrivateKey.generate()
    monkeypatch.setattr(runtime.keys, "log_signing_key", lambda: other)
    fill_log(runtime, 2, start=9)
    sign_head(runtime)
    saved = state.read_text()
    changed = _verify_url(auditor.client_id, auditor.client_secret, "--state", str(state))
    assert changed.exit_code == 1, changed.output
    said = _said(changed)
    assert f"not the key pinned in the state file, {key_fingerprint(key)}" in said
    assert "must publish the new key" in said
    assert state.read_text() == saved
