"""Errors of consumer accounts."""

from __future__ import annotations

from infomediary.errors import Conflict, DomainError, TooManyRequests, Unauthenticated


class InvalidCredentials(Unauthenticated):
    slug = "invalid-credentials"
    title = "Invalid email or password"


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
