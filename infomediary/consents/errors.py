"""Errors of the consent domain, each with its stable problem type."""

from __future__ import annotations

from infomediary.errors import Conflict, DomainError, Forbidden, NotFound


class ConsentNotFound(NotFound):
    slug = "consent-not-found"
    title = "No such consent record"


class ReceiptNotFound(NotFound):
    slug = "receipt-not-found"
    title = "No receipt was issued for this consent record"


class ConsentTransitionNotAllowed(Conflict):
    slug = "consent-transition-not-allowed"
    title = "This change of consent state is not allowed"


class SupplierUnknown(NotFound):
    slug = "supplier-not-found"
    title = "No such supplier"


class PolicyRequired(Conflict):
    slug = "supplier-policy-required"
    title = "The supplier has not published a privacy policy"


class UndeclaredUse(Forbidden):
    """A supplier asked for a purpose or category its own policy does not declare (recorded: a logged denial
    and a strike)."""

    slug = "undeclared-use"
    title = "The request asks for a purpose or data category the supplier's policy does not declare"


class RequestNotFound(NotFound):
    slug = "request-not-found"
    title = "No such request"


class SlicePseudonymAlreadyAsked(Conflict):
    slug = "slice-pseudonym-already-asked"
    title = "A pseudonym from a slice can be named in one request only"


class RequestNotPending(Conflict):
    slug = "request-not-pending"
    title = "The request has already been answered or has expired"


class TooManyTerms(DomainError):
    status = 422
    slug = "too-many-terms"
    title = "Too many standing terms"


class InvalidConsentInput(DomainError):
    status = 422
    slug = "invalid-consent-input"
    title = "The consent input is not valid"
