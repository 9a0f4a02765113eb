"""Errors of consumer accounts."""

from __future__ import annotations

from infomediary.errors import Conflict, DomainError, Forbidden, TooManyRequests, Unauthenticated


class InvalidCredentials(Unauthenticated):
    slug = "invalid-credentials"
    title = "Invalid email or password"


class ReauthenticationFailed(Forbidden):
    """The session is fine, but the action (erasure, identity release, password change) needs the password
    again: 403, not 401, so that a client does not take it for a dead session and log the customer out."""

    slug = "reauthentication-failed"
    title = "Confirm with your current password"


class EmailAlreadyRegistered(Conflict):
    slug = "email-already-registered"
    title = "An account with this email already exists"


class LoginThrottled(TooManyRequests):
    slug = "login-throttled"
    title = "Too many failed logins; try again later"


class InvalidSession(Unauthenticated):
    slug = "invalid-session"
    title = "The session is missing, expired or revoked"


class WeakPassword(DomainError):
    status = 422
    slug = "weak-password"
    title = "The new password is not acceptable"
