"""Errors of the products domain (a supplier's product catalog)."""

from __future__ import annotations

from infomediary.errors import DomainError, NotFound


class CatalogRejected(DomainError):
    """An upload with invalid rows: nothing was stored; `errors` lists each row index and what is wrong."""

    status = 422
    slug = "catalog-rejected"
    title = "Some catalog rows are not valid; nothing was stored"


class CatalogTooLarge(DomainError):
    status = 413
    slug = "catalog-too-large"
    title = "The catalog would hold more items than allowed"


class CatalogItemNotFound(NotFound):
    slug = "catalog-item-not-found"
    title = "No such item in your catalog"
