"""Errors of the business rule domain."""

from __future__ import annotations

from infomediary.errors import Conflict, DomainError, NotFound


class InvalidRule(DomainError):
    status = 422
    slug = "invalid-rule"
    title = "The business rule is not valid"


class RuleNotFound(NotFound):
    slug = "rule-not-found"
    title = "No such business rule"


class TooManyRules(Conflict):
    slug = "too-many-rules"
    title = "You store as many business rules as allowed"
