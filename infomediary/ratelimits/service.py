"""Counting requests per client address in fixed windows, in the database.

Why the database and not an in-process limiter (the `limits` library's memory storage, say): the service runs
several uvicorn workers (and several machines behind a load balancer), and a per-process counter would let a
client through N times the limit. `limits` offers shared storage only on Redis, Memcached or MongoDB, which
the embedded deployment does not have; the database every worker already shares does the job with one
upsert per limited request, like the login throttle next to it (`infomediary/customers/throttle.py`).

A fixed window is exact about `Retry-After` (the window's end) at the price of letting up to twice the limit
through across a window boundary, which is fine for slowing down credential stuffing and sign-up floods.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from sqlalchemy import delete

from infomediary.database import WriteSession, upsert_insert
from infomediary.ratelimits.errors import RateLimited
from infomediary.ratelimits.models import RateLimitCounter

LONGEST_WINDOW_SECONDS = 86_400
"""The longest window a bucket may count in (the settings' `rate_limit_window_seconds` is at most this)."""


@dataclass(frozen=True)
class Limit:
    bucket: str
    per_window: int
    window_seconds: int


def counter_key(secret: bytes, bucket: str, client_address: str) -> bytes:
    # Domain-separated from the login throttle's keys, which use the same throttling secret.
    message = b"rate-limit\x00" + bucket.encode() + b"\x00" + client_address.encode()
    return hmac.new(secret, message, hashlib.sha256).digest()


def hit(session: WriteSession, secret: bytes, limit: Limit, client_address: str, *, now: float) -> int:
    """Count one request; raise `RateLimited` (with the seconds to the window's end) beyond the limit.

    Runs in its own short transaction, not the request's: a refused or failed request still counts.
    """
    window_start = int(now) - int(now) % limit.window_seconds
    key = counter_key(secret, limit.bucket, client_address)
    statement = (
        upsert_insert(session, RateLimitCounter)
        .values(key=key, window_start=window_start, hits=1)
        .on_conflict_do_update(
            index_elements=["key", "window_start"], set_={"hits": RateLimitCounter.hits + 1}
        )
        .returning(RateLimitCounter.hits)
    )
    hits = int(session.execute(statement).scalar_one())
    if hits == 1:
        # The first request of a window clears windows that can no longer matter, keeping the table small.
        # Buckets of different window lengths share the table (a minute per client address, an hour per
        # account's mail), and the key does not say whose a row is: only windows older than the longest
        # one any bucket may have are cleared, never another bucket's current window.
        horizon = max(limit.window_seconds, LONGEST_WINDOW_SECONDS)
        session.execute(
            delete(RateLimitCounter).where(RateLimitCounter.window_start < window_start - horizon)
        )
    if hits > limit.per_window:
        retry_after = max(1, window_start + limit.window_seconds - int(now))
        raise RateLimited(
            f"at most {limit.per_window} requests per {limit.window_seconds} s to this endpoint from one "
            f"address; retry in {retry_after} s",
            retry_after=retry_after,
        )
    return hits
