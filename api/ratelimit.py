"""Rate-limit dependencies for the public endpoints: 429 problem+json with `Retry-After` beyond the limit."""

from __future__ import annotations

import time
from collections.abc import Callable

from fastapi import Depends, params

from api.deps import ClientAddressDep, RuntimeDep
from infomediary.database import unit_of_work
from infomediary.ratelimits import service
from infomediary.runtime import Runtime


def _limit(runtime: Runtime, bucket: str) -> service.Limit:
    settings = runtime.settings
    per_window = {
        "login": settings.rate_limit_login,
        "registration": settings.rate_limit_registration,
        "token": settings.rate_limit_token,
    }[bucket]
    return service.Limit(bucket, per_window, settings.rate_limit_window_seconds)


def rate_limited(bucket: str) -> params.Depends:
    """A route dependency that counts the request against `bucket` for the caller's address."""

    def check(runtime: RuntimeDep, address: ClientAddressDep) -> None:
        # Its own transaction: the count must stick even when the request itself fails and rolls back.
        with unit_of_work(runtime.session_factory) as session:
            service.hit(
                session, runtime.keys.secret("throttle"), _limit(runtime, bucket), address, now=time.time()
            )

    check.__name__ = f"rate_limit_{bucket}"
    dependency: Callable[..., None] = check
    marker: params.Depends = Depends(dependency)
    return marker
