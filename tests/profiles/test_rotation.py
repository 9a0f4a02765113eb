"""Key rotation runs online: every profile keeps reading correctly while data keys are rewrapped, and a
rotation interrupted halfway resumes where it stopped."""

from __future__ import annotations

import threading

import pytest

from infomediary import rotation
from infomediary.database import unit_of_work
from infomediary.profiles import service as profiles
from infomediary.runtime import Runtime
from tests.fixtures.population import make_customers

# Real commits on the real engines: this module's tests race connections or read what a commit leaves.
pytestmark = pytest.mark.committing


class Interrupted(Exception):
    pass


def _read_all(runtime: Runtime, expected: dict[str, str]) -> None:
    with unit_of_work(runtime.read_session_factory) as session:
        for customer_id, name in expected.items():
            assert profiles.stored_values(session, runtime, customer_id)["given_name"] == name


def _versions(runtime: Runtime) -> dict[int, int]:
    return {s.version: s.keys for s in rotation.status(runtime) if s.keys}


def test_rotation_while_reads_continue_then_an_interrupted_rotation_resumes(runtime: Runtime) -> None:
    expected = make_customers(runtime, 300)
    start = runtime.vault.provider.current_version()
    assert _versions(runtime) == {start: 300}

    stop = threading.Event()
    failures: list[BaseException] = []
    reads = 0

    def reader() -> None:
        nonlocal reads
        while not stop.is_set():
            try:
                _read_all(runtime, dict(list(expected.items())[reads % 250 :][:50]))
            except BaseException as exc:
                failures.append(exc)
                return
            reads += 1

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        new = rotation.add_version(runtime)
        assert rotation.pending(runtime) == 300
        assert rotation.rewrap(runtime, batch_size=25) == 300
    finally:
        stop.set()
        thread.join()
    assert not failures, failures
    assert reads > 0
    assert _versions(runtime) == {new: 300}
    runtime.vault.forget_all()
    _read_all(runtime, expected)

    # Interrupted: the first batch commits, then the process "dies".
    newer = rotation.add_version(runtime)

    def die_after_first_batch(size: int) -> None:
        raise Interrupted

    with pytest.raises(Interrupted):
        rotation.rewrap(runtime, batch_size=40, on_batch=die_after_first_batch)
    assert _versions(runtime) == {new: 260, newer: 40}
    _read_all(runtime, expected)
    assert rotation.pending(runtime) == 260
    assert rotation.rewrap(runtime, batch_size=40) == 260
    assert _versions(runtime) == {newer: 300}

    retired = rotation.retire_unused(runtime)
    assert {start, new} <= set(retired)
    assert all(s.retired for s in rotation.status(runtime) if s.version < newer)
    runtime.vault.forget_all()
    _read_all(runtime, expected)
