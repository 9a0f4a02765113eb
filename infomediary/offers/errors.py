"""Errors of the offers domain."""

from __future__ import annotations

from infomediary.errors import Conflict, DomainError, NotFound, TooManyRequests


class OfferNotFound(NotFound):
    # Another supplier's offer, or one not (or no longer) in the customer's inbox, reads as missing.
    slug = "offer-not-found"
    title = "No such offer"


class InvalidOffer(DomainError):
    status = 422
    slug = "invalid-offer"
    title = "The offer is not valid"


class OfferBudgetExhausted(Conflict):
    slug = "offer-budget-exhausted"
    title = "The offer's budget cannot pay this reward"


class IdentityReleaseConfirmationRequired(DomainError):
    status = 422
    slug = "identity-release-confirmation-required"
    title = "Accepting this offer releases your identity: confirm with release_identity"


class IdentityReleaseRefused(Conflict):
    # Rolls back: the acceptance, its consent grant and its reward are not kept when the decision denies.
    slug = "identity-release-refused"
    title = "Your standing terms or consents do not permit releasing your identity to this supplier"


class ReportRateLimited(TooManyRequests):
    slug = "report-rate-limited"
    title = "Too many reports in a short time"

    def __init__(self, *, retry_after: int) -> None:
        super().__init__("you have reported many offers recently; try again later", retry_after=retry_after)


class OfferAudienceTooSmall(DomainError):
    # Refused after its audience was counted: the noisy count it released is charged all the same.
    status = 422
    slug = "offer-audience-too-small"
    title = "The offer's audience is below the minimum cohort"
