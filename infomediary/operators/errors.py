"""Errors of operator accounts."""

from __future__ import annotations

from infomediary.errors import Conflict, DomainError, NotFound, Unauthenticated


class OperatorLoginTaken(Conflict):
    slug = "operator-login-taken"
    title = "An operator with this login already exists"


class OperatorNotFound(NotFound):
    slug = "operator-not-found"
    title = "No such operator"


class InvalidOperatorSession(Unauthenticated):
    slug = "invalid-operator-session"
    title = "The operator session is missing, expired or revoked"


class OperatorPasswordRejected(DomainError):
    status = 422
    slug = "operator-password-rejected"
    title = "The password is not acceptable"


class OperatorLoginRejected(DomainError):
    status = 422
    slug = "operator-login-rejected"
    title = "The login is not acceptable"
