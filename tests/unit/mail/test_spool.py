"""The embedded default's mail directory: private files, newest first, and ids that cannot name a path."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from infomediary.mail import spool
from infomediary.mail.message import compose


def _message(to: str, subject: str) -> object:
    return compose(kind="k", sender="x@example.org", to=to, subject=subject, text=f"To {to}\n").message


def test_kept_messages_are_private_files_listed_newest_first(tmp_path: Path) -> None:
    directory = tmp_path / "mail"
    first = spool.write(directory, _message("ada@example.org", "First"))  # type: ignore[arg-type]
    second = spool.write(directory, _message("bob@example.org", "Second"))  # type: ignore[arg-type]
    assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700
    for message_id in (first, second):
        assert stat.S_IMODE(os.stat(directory / f"{message_id}.eml").st_mode) == 0o600
    listed = spool.listing(directory)
    assert [k.id for k in listed] == [second, first]
    assert [(k.to, k.subject) for k in listed] == [
        ("bob@example.org", "Second"),
        ("ada@example.org", "First"),
    ]
    assert listed[0].at >= listed[1].at
    assert spool.body(spool.read(directory, first)) == "To ada@example.org\n"
    assert [k.id for k in spool.listing(directory, limit=1)] == [second]
    # Nothing half-written is left beside them, and file names carry no address.
    assert sorted(p.name for p in directory.iterdir()) == sorted(f"{i}.eml" for i in (first, second))


@pytest.mark.parametrize("bad", ["../secrets", "/etc/passwd", "20260101T000000000000Z-abc", "x" * 29, ""])
def test_an_id_that_is_not_one_names_no_file(tmp_path: Path, bad: str) -> None:
    (tmp_path / "secrets.eml").write_text("not a message for anyone")
    with pytest.raises(KeyError):
        spool.read(tmp_path / "mail", bad)


def test_an_empty_or_missing_directory_lists_nothing(tmp_path: Path) -> None:
    assert spool.listing(tmp_path / "nowhere") == []
    assert spool.forget(tmp_path / "nowhere", "ada@example.org") == 0


def test_forgetting_an_address_deletes_its_messages_only(tmp_path: Path) -> None:
    directory = tmp_path / "mail"
    for to in ("ada@example.org", "Ada@Example.org", "bob@example.org"):
        spool.write(directory, _message(to, "Hello"))  # type: ignore[arg-type]
    assert spool.forget(directory, "ADA@example.org") == 2
    assert [k.to for k in spool.listing(directory)] == ["bob@example.org"]
