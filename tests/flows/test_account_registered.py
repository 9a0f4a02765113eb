"""Registering a taken address takes as long as opening an account: the password is hashed either way, and
the taken address's answer waits out what the new account's names and keys cost in the key store."""

from __future__ import annotations

import statistics
import time

from infomediary.database import unit_of_work
from infomediary.flows import account_registered
from infomediary.runtime import Runtime
from tests.fixtures.actors import PASSWORD
from tests.fixtures.runtimes import reconfigured


def test_a_taken_address_is_answered_in_the_time_a_new_account_takes(runtime: Runtime) -> None:
    costly = reconfigured(runtime, argon2_time_cost=2, argon2_memory_kib=32768, argon2_parallelism=1)

    def timed(email: str) -> float:
        started = time.perf_counter()
        with unit_of_work(costly.session_factory) as session:
            account_registered.register(session, costly, email=email, password=PASSWORD)
        return time.perf_counter() - started

    for n in range(3):
        timed(f"warm-{n}@example.org")
    new, taken = [], []
    for n in range(9):
        new.append(timed(f"new-{n}@example.org"))
        taken.append(timed("warm-0@example.org"))
    ratio = statistics.median(taken) / statistics.median(new)
    assert 0.75 < ratio < 1 / 0.75, (taken, new)
