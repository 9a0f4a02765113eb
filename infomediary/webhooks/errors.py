"""Webhook errors, each with its HTTP status and problem type."""

from __future__ import annotations

from infomediary.errors import Conflict, DomainError, NotFound


class WebhookNotFound(NotFound):
    # Another supplier's endpoint answers exactly like a missing one: no oracle.
    slug = "webhook-not-found"
    title = "No such webhook endpoint"


class WebhookUrlRefused(DomainError):
    status = 400
    slug = "webhook-url-refused"
    title = "This URL cannot receive webhooks"


class WebhookLimitReached(Conflict):
    slug = "webhook-limit-reached"
    title = "Too many webhook endpoints"
