"""The one base class for domain errors: each carries its HTTP status and a stable problem type.

The api layer renders these as RFC 9457 problem+json in one place; nothing below `api/` knows HTTP beyond
the status number carried here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Self

PROBLEM_TYPE_BASE = "tag:infomediary.dev,2026:problem/"


def problem_type(slug: str) -> str:
    """Problem type URIs are tag URIs (RFC 4151): absolute, stable and deliberately not dereferenceable."""
    return PROBLEM_TYPE_BASE + slug


class DomainError(Exception):
    status: ClassVar[int] = 400
    slug: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"

    def __init__(self, detail: str | None = None, **extensions: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extensions = extensions
        self.headers: dict[str, str] = {}
        self.record: Callable[[Any], object] | None = None

    def recording(self, record: Callable[[Any], object]) -> Self:
        """A refusal that leaves a record (a failed login for the throttle, a denied decision in the policy
        log, a strike): `record(session)` writes it, given a writing session.

        Whatever the refused operation did is rolled back like any error's; then the record alone is written
        in a transaction of its own, by whoever owns the session: the request's session dependency
        (`api.deps`), or a page that shows its form again (`api.deps.keep_only_the_record`).
        """
        self.record = record
        return self

    @classmethod
    def type_uri(cls) -> str:
        return problem_type(cls.slug)


class NotFound(DomainError):
    status = 404
    slug = "not-found"
    title = "Not found"


class Conflict(DomainError):
    status = 409
    slug = "conflict"
    title = "Conflict"


class Unauthenticated(DomainError):
    status = 401
    slug = "unauthenticated"
    title = "Authentication required"


class Forbidden(DomainError):
    status = 403
    slug = "forbidden"
    title = "Forbidden"


class TooManyRequests(DomainError):
    status = 429
    slug = "too-many-requests"
    title = "Too many requests"

    def __init__(self, detail: str | None = None, *, retry_after: int, **extensions: Any) -> None:
        super().__init__(detail, retry_after=retry_after, **extensions)
        self.headers["Retry-After"] = str(retry_after)


class ServiceUnavailable(DomainError):
    status = 503
    slug = "service-unavailable"
    title = "Service unavailable"
