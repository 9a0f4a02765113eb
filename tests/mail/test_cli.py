"""`infomediary mail list` and `mail show`: the offline demo reads the mail the service would have sent."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from infomediary.cli import app
from infomediary.mail import spool
from infomediary.mail.message import compose

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("INFOMEDIARY_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("INFOMEDIARY_MAIL_SMTP_HOST", raising=False)
    return tmp_path / "var"


def test_list_then_show_a_kept_message(data_dir: Path) -> None:
    assert "no mail" in runner.invoke(app, ["mail", "list"]).output
    text = "Open https://127.0.0.1:8000/verify-email?token=[abc]_DEF-1 to confirm.\n"
    message = compose(kind="k", sender="x@example.org", to="ada@example.org", subject="Confirm", text=text)
    message_id = spool.write(data_dir / "mail", message.message)

    listed = runner.invoke(app, ["mail", "list"], env={"COLUMNS": "200"})
    assert listed.exit_code == 0, listed.output
    assert message_id in listed.output and "ada@example.org" in listed.output and "Confirm" in listed.output

    shown = runner.invoke(app, ["mail", "show", message_id], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert "To: ada@example.org" in shown.output
    assert "verify-email?token=[abc]_DEF-1" in shown.output  # the link whole, brackets and all


def test_show_refuses_an_id_that_is_not_a_kept_message(data_dir: Path) -> None:
    result = runner.invoke(app, ["mail", "show", "../keys/secrets"])
    assert result.exit_code == 1 and "no message" in result.output
