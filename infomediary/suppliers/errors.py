"""Errors of supplier administration."""

from __future__ import annotations

from infomediary.errors import Conflict, DomainError, NotFound


class SupplierNotFound(NotFound):
    slug = "supplier-not-found"
    title = "No such supplier"


class SupplierNameTaken(Conflict):
    slug = "supplier-name-taken"
    title = "A supplier with this name already exists"


class UnknownScope(DomainError):
    status = 422
    slug = "unknown-scope"
    title = "Unknown scope"
