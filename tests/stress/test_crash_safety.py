"""The bounded crash-safety run: a real server under write-heavy load, killed with SIGKILL twice, on the
suite's database (SQLite, or PostgreSQL when the suite runs there).

The full run: `python -m tests.stress.crash` (see its docstring)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.fixtures.databases import fresh_postgres_database
from tests.stress import crash


def _tampered(scenario: crash.Scenario, statement: str) -> None:
    engine = create_engine(scenario.database_url)
    with engine.begin() as conn:
        conn.execute(text(statement))
    engine.dispose()


def _run_and_check_the_checks(tmp_path: Path, database_url: str | None) -> None:
    scenario = crash.run(tmp_path, database_url, kills=2, seconds=2.5, consumers=6, seed=11)
    counts = scenario.counts
    assert counts["kills"] == 2
    # The load really wrote between the kills (otherwise the checks passed over nothing).
    assert counts["acknowledged profile edits"] > 10, counts
    assert counts["consent events"] > 10, counts
    assert counts["acknowledged offers"] > 0 and counts["ledger postings"] > 0, counts
    assert counts["tree heads checked"] > 0, counts

    # The control: the same checks catch what a crash could leave behind.
    _tampered(scenario, "DELETE FROM consent_events WHERE id = (SELECT MAX(id) FROM consent_events)")
    with pytest.raises(crash.CrashSafetyViolation, match="consent events"):
        crash.check_nothing_half_done(scenario)
    _tampered(
        scenario,
        "UPDATE ledger_accounts SET total = total + 1 WHERE id = (SELECT MIN(id) FROM ledger_accounts)",
    )
    with pytest.raises(crash.CrashSafetyViolation, match="balances differ"):
        crash.check_nothing_half_done(scenario)
    _tampered(scenario, "DELETE FROM ledger_postings WHERE id = (SELECT MAX(id) FROM ledger_postings)")
    with pytest.raises(crash.CrashSafetyViolation, match="sums to"):
        crash.check_nothing_half_done(scenario)


def test_acknowledged_writes_survive_kill_9_and_nothing_is_half_done(tmp_path: Path) -> None:
    admin_url = os.environ.get("INFOMEDIARY_TEST_DATABASE_URL")
    if admin_url:
        with fresh_postgres_database(admin_url) as url:
            _run_and_check_the_checks(tmp_path, url)
    else:
        _run_and_check_the_checks(tmp_path, None)
