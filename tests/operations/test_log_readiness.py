"""A policy log that is not whole makes the service not ready, at start-up and on every probe, saying why."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from typer.testing import CliRunner

from api.app import create_app
from infomediary.cli import app as cli_app
from infomediary.policylog.models import PolicyLogNode
from infomediary.runtime import Runtime
from tests.conftest import ISSUER
from tests.fixtures.policylog import drop_leaf, drop_nodes, fill_log, set_size

PROBLEM = "application/problem+json"
NOT_WHOLE = "tag:infomediary.dev,2026:problem/policy-log-not-whole"


def _not_ready(response: httpx.Response) -> str:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["type"] == NOT_WHOLE and body["status"] == 503
    assert body["title"] == "The policy log is not whole"
    detail: str = body["detail"]
    assert detail.startswith("the policy log is not whole: ")
    return detail


def _log_lines(captured: str, event: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in captured.splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("event") == event]


def test_a_whole_log_is_ready(http: TestClient, runtime: Runtime) -> None:
    fill_log(runtime, 37)
    assert http.get("/readyz").json() == {"status": "ready"}


def test_a_size_bumped_past_the_entries_is_not_ready_until_put_back(
    http: TestClient, runtime: Runtime
) -> None:
    fill_log(runtime, 5)
    set_size(runtime, 8)
    detail = _not_ready(http.get("/readyz"))
    assert "stored size 8 but the highest leaf index is 4" in detail
    assert "perfect nodes a tree head of size 8 needs are not stored: (level=3, index=0)" in detail
    assert http.get("/healthz").status_code == 200, "alive, only not ready"
    set_size(runtime, 5)
    assert http.get("/readyz").status_code == 200


def test_a_gap_in_the_middle_is_not_ready(http: TestClient, runtime: Runtime) -> None:
    """The incident: the last index matches the size, but an ancestor over the gap was never computed."""
    fill_log(runtime, 24)
    drop_leaf(runtime, 10)
    detail = _not_ready(http.get("/readyz"))
    # 24 = 16 + 8: leaf 10 is under (4, 0).
    assert (
        "1 of the 2 perfect nodes a tree head of size 24 needs are not stored: (level=4, index=0)" in detail
    )


def test_a_missing_frontier_node_is_not_ready(http: TestClient, runtime: Runtime) -> None:
    fill_log(runtime, 6)
    with runtime.read_session_factory() as session:
        saved = session.scalar(
            select(PolicyLogNode.hash).where(PolicyLogNode.level == 1, PolicyLogNode.node_index == 2)
        )
    drop_nodes(runtime, [(1, 2)])
    assert "(level=1, index=2)" in _not_ready(http.get("/readyz"))
    with runtime.engine.begin() as conn:
        conn.execute(
            text("INSERT INTO policy_log_nodes (level, node_index, hash) VALUES (1, 2, :h)"), {"h": saved}
        )
    assert http.get("/readyz").json() == {"status": "ready"}


def test_a_disagreement_is_logged_once_as_an_error_with_its_figures(
    http: TestClient, runtime: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    fill_log(runtime, 5)
    set_size(runtime, 7)
    capsys.readouterr()
    for _ in range(3):
        _not_ready(http.get("/readyz"))
    errors = _log_lines(capsys.readouterr().err, "policy_log_not_whole")
    assert len(errors) == 1, "one line per disagreement, not one per probe"
    assert errors[0]["level"] == "error"
    assert errors[0]["stored_size"] == 7 and errors[0]["last_leaf_index"] == 4
    assert errors[0]["missing_frontier_nodes"] == [[1, 2], [0, 6]]
    set_size(runtime, 5)
    assert http.get("/readyz").status_code == 200
    assert _log_lines(capsys.readouterr().err, "policy_log_whole_again")


def test_start_up_finds_what_the_probe_cannot_and_stays_not_ready_until_restarted(
    runtime: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    """An inner node lost under a stored frontier node: only the thorough start-up check sees it. The
    process starts (alive, not ready) rather than refusing to, and a repair counts from the next start."""
    fill_log(runtime, 16)
    with runtime.read_session_factory() as session:
        saved = session.scalar(
            select(PolicyLogNode.hash).where(PolicyLogNode.level == 0, PolicyLogNode.node_index == 3)
        )
    drop_nodes(runtime, [(0, 3)])
    capsys.readouterr()
    with TestClient(create_app(runtime=runtime), base_url=ISSUER) as http:
        errors = _log_lines(capsys.readouterr().err, "policy_log_not_whole")
        assert len(errors) == 1 and errors[0]["thorough"] is True
        assert errors[0]["entries"] == 16 and errors[0]["missing_nodes_by_level"] == {"0": 1}
        assert http.get("/healthz").status_code == 200
        detail = _not_ready(http.get("/readyz"))
        assert "1 perfect nodes missing under size 16 (level 0: 15 of 16)" in detail
        assert "found at start-up; restart the service once the log is repaired" in detail
        assert not _log_lines(capsys.readouterr().err, "policy_log_not_whole"), "logged at start-up already"
        with runtime.engine.begin() as conn:
            conn.execute(
                text("INSERT INTO policy_log_nodes (level, node_index, hash) VALUES (0, 3, :h)"), {"h": saved}
            )
        assert http.get("/readyz").status_code == 503, "the start-up finding holds until a restart"
    with TestClient(create_app(runtime=runtime), base_url=ISSUER) as http:
        assert http.get("/readyz").json() == {"status": "ready"}
        assert _log_lines(capsys.readouterr().err, "policy_log_whole")[0]["stored_size"] == 16


@pytest.mark.committing  # the command runs in-process on its own connections
def test_audit_check_reports_the_store_from_the_command_line(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INFOMEDIARY_DATA_DIR", str(runtime.settings.data_dir))
    monkeypatch.setenv("INFOMEDIARY_DATABASE_URL", runtime.settings.resolved_database_url)
    fill_log(runtime, 9)
    runner = CliRunner()
    ok = runner.invoke(cli_app, ["audit", "check"])
    assert ok.exit_code == 0, ok.output
    assert "whole at size 9" in ok.output
    drop_leaf(runtime, 4)
    bad = runner.invoke(cli_app, ["audit", "check"])
    assert bad.exit_code == 1
    said = " ".join(bad.output.split())
    assert "NOT WHOLE: the policy log is not whole:" in said
    assert "8 entries stored for size 9 (1 missing)" in said
