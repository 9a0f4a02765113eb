"""CPU-heavy steps (argon2, bulk decryption: an export's pages, a slice's fields) off the event loop, on a
bounded pool of threads.

A request's work runs on the event loop, services included (inside the request session's greenlet, see
`infomediary.database.RequestSession`). A step that holds the CPU for milliseconds would stall every other
request there, so it goes to a thread instead, at most `CPU_THREADS` at once (argon2 also holds its memory
cost per call: the bound is what keeps a burst of log-ins from exhausting memory). argon2-cffi and the
`cryptography` AEADs release the GIL, so those threads do run in parallel with the loop.

Cheap steps stay where they are: a thread hop costs some 50-100 µs, more than a single decryption or an
OpenDP draw. Scoring one customer's recommendations (ALS with the customer's vector recomputed, a median
0.4 ms in `bench.recommend --stages`) stays too: a hop would add a quarter of it to every recommendation,
and implicit does not document its models as safe to share between threads.

Outside a request (the command line, tests calling services directly) the step simply runs in place.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from anyio import CapacityLimiter, sleep, to_thread
from sqlalchemy.util.concurrency import await_, in_greenlet

P = ParamSpec("P")
T = TypeVar("T")

CPU_THREADS = 4
"""Threads for CPU-heavy steps, per event loop: twice the cores of the machine we measure on."""

_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, CapacityLimiter] = weakref.WeakKeyDictionary()


def _limiter() -> CapacityLimiter:
    # One per loop: a test client runs one event loop per `with` block, and a limiter belongs to its loop.
    loop = asyncio.get_running_loop()
    found = _limiters.get(loop)
    if found is None:
        found = _limiters[loop] = CapacityLimiter(CPU_THREADS)
    return found


async def cpu_bound(step: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run `step` on the CPU pool and await its result (from async code)."""
    return await to_thread.run_sync(lambda: step(*args, **kwargs), limiter=_limiter())


def off_the_loop(step: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run `step` on the CPU pool when called from a request's greenlet (synchronous service code on the
    event loop), waiting for it there without blocking the loop; run it in place anywhere else."""
    if in_greenlet():
        return await_(cpu_bound(step, *args, **kwargs))
    return step(*args, **kwargs)


def pause(seconds: float) -> None:
    """Wait `seconds`: on the event loop without holding it when called from a request's greenlet, in place
    anywhere else. For an answer that must not come back sooner than another kind would
    (`flows.account_registered`)."""
    if seconds <= 0:
        return
    if in_greenlet():
        await_(sleep(seconds))
    else:
        time.sleep(seconds)
