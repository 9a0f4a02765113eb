"""Read and write sessions are distinct types: mypy rejects a read session handed to a service that writes.

Each case is a few lines type-checked by mypy with the project's configuration against the real services
(the policy log's append, a ledger posting): the calls marked `# rejected` must be the only errors, and the
same calls through a `WriteSession` must pass. A cold run checks the imported modules once (about 10 s);
the cache under the system's temporary directory makes later runs take well under a second.
"""

from __future__ import annotations

import re
import tempfile
import textwrap
from pathlib import Path

import pytest
from mypy import api as mypy_api

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(tempfile.gettempdir()) / "infomediary-mypy-cache"

HEADER = """\
from sqlalchemy.orm import Session

from api.deps import (
    AsyncReadSessionDep,
    AsyncWriteSessionDep,
    ReadSessionDep,
    RequestSessionDep,
    SessionDep,
    WriteSessionDep,
)
from infomediary.ledger import service as ledger
from infomediary.database import ReadSession, WriteSession, unit_of_work
from infomediary.ledger.models import TransactionKind
from infomediary.policylog.service import append
from infomediary.runtime import Runtime


def post(session: WriteSession) -> None:
    ledger.post(
        session, kind=TransactionKind.TOP_UP, postings=[], idempotency_key="k", initiator="i", credit_line=0
    )
"""

REJECTED = """\
def appends_through_a_read_session(session: ReadSession) -> None:
    append(session, {"kind": "x"})  # rejected


def posts_through_a_read_session(session: ReadSession) -> None:
    ledger.post(
        session,  # rejected
        kind=TransactionKind.TOP_UP,
        postings=[],
        idempotency_key="k",
        initiator="i",
        credit_line=0,
    )


def appends_through_any_session(session: Session) -> None:
    append(session, {"kind": "x"})  # rejected


def read_route(session: ReadSessionDep) -> None:
    append(session, {"kind": "x"})  # rejected


def dependency(session: SessionDep) -> None:
    append(session, {"kind": "x"})  # rejected


def reading_unit_of_work(runtime: Runtime) -> None:
    with unit_of_work(runtime.read_session_factory) as session:
        append(session, {"kind": "x"})  # rejected


async def async_read_route(session: AsyncReadSessionDep) -> None:
    await session.run(append, {"kind": "x"})  # rejected


async def async_dependency(session: RequestSessionDep) -> None:
    await session.run(append, {"kind": "x"})  # rejected
"""

ACCEPTED = """\
def appends_through_a_write_session(session: WriteSession) -> None:
    append(session, {"kind": "x"})
    post(session)


def write_route(session: WriteSessionDep) -> None:
    append(session, {"kind": "x"})


def writing_unit_of_work(runtime: Runtime) -> None:
    with unit_of_work(runtime.session_factory) as session:
        append(session, {"kind": "x"})


def reads_through_either(read: ReadSession, write: WriteSession) -> None:
    def count(session: Session) -> int:
        return 0

    count(read)
    count(write)


async def async_write_route(session: AsyncWriteSessionDep) -> None:
    await session.run(append, {"kind": "x"})


async def async_reads_through_any(read: AsyncReadSessionDep, either: RequestSessionDep) -> int:
    def count(session: Session, start: int) -> int:
        return start

    return await read.run(count, 1) + await either.run(count, start=2)
"""


def _mypy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **sources: str) -> dict[str, list[str]]:
    """mypy's errors per snippet (by name), each as `line: message`."""
    for name, body in sources.items():
        (tmp_path / f"{name}.py").write_text(HEADER + "\n\n" + textwrap.dedent(body))
    monkeypatch.chdir(ROOT)  # the project's packages resolve from here, as in CI
    stdout, stderr, _status = mypy_api.run(
        [
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(CACHE),
            "--no-error-summary",
            "--show-error-codes",
            *(str(tmp_path / f"{name}.py") for name in sources),
        ]
    )
    assert not stderr, stderr
    errors: dict[str, list[str]] = {name: [] for name in sources}
    for line in stdout.splitlines():
        if ": note: " in line:
            continue  # mypy's explanations of an error already counted
        found = re.match(r".*[/\\](\w+)\.py:(\d+): error: (.*)", line)
        assert found, f"unexpected mypy output: {line}"
        errors[found[1]].append(f"{found[2]}: {found[3]}")
    return errors


def _marked_lines(name: str, body: str) -> list[int]:
    lines = (HEADER + "\n\n" + textwrap.dedent(body)).splitlines()
    return [number for number, text in enumerate(lines, start=1) if text.endswith("# rejected")]


def test_a_read_session_handed_to_a_writer_is_a_type_error_and_a_write_session_is_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    errors = _mypy(tmp_path, monkeypatch, rejected=REJECTED, accepted=ACCEPTED)

    assert errors["accepted"] == []
    rejected = errors["rejected"]
    assert [int(e.split(":")[0]) for e in rejected] == _marked_lines("rejected", REJECTED)
    for error in rejected:
        assert re.search(
            r'incompatible type "(ReadSession|Session)"; expected "WriteSession"'
            r'|expected "Callable\[\[(ReadSession|Session), ',
            error,
        ), error
        assert error.endswith("[arg-type]"), error
