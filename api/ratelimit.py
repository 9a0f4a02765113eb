"""Rate-limit dependencies for the public endpoints: 429 problem+json with `Retry-After` beyond the limit."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import Depends, Request, params

from api.deps import ClientAddressDep, RuntimeDep, request_sessions
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

    async def check(request: Request, runtime: RuntimeDep, address: ClientAddressDep) -> None:
        # Its own transaction: the count must stick even when the request itself fails and rolls back.
        async with request_sessions(request).writes() as session, session.begin():
            await session.run(
                service.hit,
                runtime.keys.secret("throttle"),
                _limit(runtime, bucket),
                address,
                now=time.time(),
            )

    check.__name__ = f"rate_limit_{bucket}"
    dependency: Callable[..., Awaitable[None]] = check
    marker: params.Depends = Depends(dependency)
    return marker
