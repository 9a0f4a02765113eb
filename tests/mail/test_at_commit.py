"""Mail leaves only with the commit of the transaction that asked for it: never after a rollback, not at a
savepoint's release, and a transport that fails does not undo or fail the commit."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from infomediary.database import unit_of_work
from infomediary.mail.at_commit import send_at_commit
from infomediary.mail.message import Mail, compose
from infomediary.runtime import Runtime
from tests.fixtures.mail import MailCatcher
from tests.mail.conftest import Logged


def _mail(n: int) -> Mail:
    return compose(kind="notice", sender="x@example.org", to=f"n{n}@example.org", subject=f"#{n}", text="-")


class Broken:
    def deliver(self, mail: Mail) -> None:
        raise OSError("the disk is full")

    def close(self) -> None:
        pass

    def forget(self, address: str) -> int:
        return 0


def test_sent_after_the_commit_and_never_after_a_rollback(runtime: Runtime) -> None:
    catcher = MailCatcher()
    with unit_of_work(runtime.session_factory) as session:
        send_at_commit(session, catcher, _mail(1))
        session.execute(select(1))
        assert catcher.sent == []  # not before the commit
    assert [m.message["Subject"] for m in catcher.sent] == ["#1"]

    def failing_request() -> None:
        with unit_of_work(runtime.session_factory) as session:
            send_at_commit(session, catcher, _mail(2))
            raise RuntimeError("the request failed")

    with pytest.raises(RuntimeError):
        failing_request()
    # The same session used again after a rollback does not send what the rolled-back transaction queued.
    session = runtime.session_factory()
    try:
        send_at_commit(session, catcher, _mail(3))
        session.rollback()
        session.commit()
    finally:
        session.close()
    assert [m.message["Subject"] for m in catcher.sent] == ["#1"]


def test_a_savepoint_released_is_not_the_commit(runtime: Runtime) -> None:
    catcher = MailCatcher()
    with unit_of_work(runtime.session_factory) as session:
        with session.begin_nested():
            send_at_commit(session, catcher, _mail(4))
        assert catcher.sent == []
    assert [m.message["Subject"] for m in catcher.sent] == ["#4"]


def test_a_failing_transport_is_logged_and_the_commit_stands(runtime: Runtime, logged: Logged) -> None:
    catcher = MailCatcher()
    with unit_of_work(runtime.session_factory) as session:
        send_at_commit(session, Broken(), _mail(5))
        send_at_commit(session, catcher, _mail(6))
    assert [m.message["Subject"] for m in catcher.sent] == ["#6"]  # the next message still goes
    lines, text = logged()
    [line] = [entry for entry in lines if entry["event"] == "mail.not_sent"]
    assert (line["kind"], line["error"], line["level"]) == ("notice", "OSError", "warning")
    assert "n5@example.org" not in text and "disk is full" not in text
