"""Errors of bearer-token authentication on protected routes (RFC 6750 error codes)."""

from __future__ import annotations

from typing import Any

from infomediary.errors import Forbidden, NotFound, Unauthenticated


class InvalidToken(Unauthenticated):
    slug = "invalid-token"
    title = "The access token is missing, invalid, expired or revoked"

    def __init__(self, detail: str | None = None, **extensions: Any) -> None:
        super().__init__(detail, **extensions)
        error = ', error="invalid_token"' if detail else ""
        self.headers["WWW-Authenticate"] = f'Bearer realm="infomediary"{error}'


class InsufficientScope(Forbidden):
    slug = "insufficient-scope"
    title = "The access token does not carry the scope this route needs"

    def __init__(self, required: str) -> None:
        super().__init__(
            f"this route needs the scope {required!r}", error="insufficient_scope", scope=required
        )
        self.headers["WWW-Authenticate"] = (
            f'Bearer realm="infomediary", error="insufficient_scope", scope="{required}"'
        )


class WrongActor(Forbidden):
    slug = "wrong-actor"
    title = "This route is not for this kind of caller"


class ClientSuspended(Forbidden):
    slug = "client-suspended"
    title = "The client's owner is suspended"


class ClientNotFound(NotFound):
    slug = "client-not-found"
    title = "No such client"
