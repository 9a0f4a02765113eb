"""Errors of the recommendations domain."""

from __future__ import annotations

from infomediary.errors import DomainError, Forbidden, NotFound


class PersonalisationDenied(Forbidden):
    """The customer does not consent to personalisation by this supplier (recorded: the logged decisions)."""

    slug = "personalisation-denied"
    title = "The customer does not consent to personalisation by you"


class NoCatalog(NotFound):
    slug = "catalog-empty"
    title = "You have no catalog to recommend from; upload one with PUT /v1/catalog"


class InvalidExclusion(DomainError):
    status = 422
    slug = "invalid-exclusion"
    title = "The exclusion list is not valid"
