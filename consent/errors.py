"""Errors raised by the consent library.

Every error is a subclass of `ConsentError` so the app can map the whole family to one
problem+json type while still telling the cases apart. None of them is raised by `decide()`
for an ordinary deny: a deny is an answer, not an error. Errors mean the caller passed
something malformed (an unknown key, an impossible state change, a portfolio of the wrong
customer).
"""

from __future__ import annotations


class ConsentError(Exception):
    """Base class for every error of the consent library."""


class UnknownKey(ConsentError, ValueError):
    """A vocabulary key (category, purpose, release kind) that the vocabulary does not define."""


class InvalidTransition(ConsentError):
    """A consent state change that the DPV-based state machine does not allow."""

    def __init__(self, message: str, *, from_state: str | None, to_state: str) -> None:
        super().__init__(message)
        # Kept as plain strings so the app can put them in an error body without importing enums.
        self.from_state = from_state
        self.to_state = to_state


class InvalidRecord(ConsentError, ValueError):
    """A consent record, term, policy or request whose fields contradict each other."""


class CustomerMismatch(ConsentError):
    """Records or a request of one customer were mixed with another customer's portfolio.

    Raised rather than silently ignored: mixing customers is a bug in the caller, and a decision
    point that quietly papered over it could hide a leak.
    """
