"""Errors of request rate limiting."""

from __future__ import annotations

from infomediary.errors import TooManyRequests


class RateLimited(TooManyRequests):
    slug = "rate-limited"
    title = "Too many requests from this address; slow down"
