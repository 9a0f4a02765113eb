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


class EmailNotVerified(Forbidden):
    """The password was right, but the account's address was never confirmed.

    A 403 of its own rather than the 401 of a wrong password, so that she is told what to do (follow the
    link, or ask for another). It is an oracle only for whoever already has the right password, which a
    200 would confirm to the same guess once the address is confirmed; it comes after the throttled
    password check, never before, so it tells nothing to anyone else.
    """

    slug = "email-not-verified"
    title = "Confirm your email address first: follow the link we mailed you, or ask for another"


class LinkInvalid(DomainError):
    """A mailed link's token that is unknown, used or expired: the same answer for each."""

    status = 400
    slug = "link-invalid"
    title = "This link is not valid any more: it was used already, or it expired"


class NewAddressTaken(Conflict):
    """A change of login address, confirmed by its link, found the address taken: an account was registered
    with it after the change was asked for. Only whoever reads that address's mail holds the link, and the
    registration mailed that mailbox already: the answer tells them nothing new."""

    slug = "new-address-taken"
    title = "Another account uses this address now; your login address is unchanged"


class LoginChallengeInvalid(Unauthenticated):
    slug = "login-challenge-invalid"
    title = "This sign-in has expired or was used; start again with your password"


class SecondFactorFailed(Unauthenticated):
    slug = "second-factor-failed"
    title = "That code is not right"


class SecondFactorReauthenticationFailed(ReauthenticationFailed):
    """`ReauthenticationFailed` when a second factor is on: one answer for a wrong password and a wrong code,
    so a stolen session cannot tell which of the two it guessed right."""

    title = "Confirm with your current password and a code from your authenticator app"


class SecondFactorAlreadyOn(Conflict):
    slug = "second-factor-enabled"
    title = "Two-step sign-in is already on; turn it off first to set up another authenticator"


class SecondFactorNotStarted(Conflict):
    slug = "second-factor-not-started"
    title = "There is no authenticator being set up; start again"


class CodeIncorrect(DomainError):
    """The first code of an authenticator being set up does not match: nothing is switched on."""

    status = 400
    slug = "code-incorrect"
    title = "That code does not match; check the time on your device and try the next code"
