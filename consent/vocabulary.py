"""The vocabulary: data categories, purposes and release kinds, with their consumer-facing labels.

This is the shared vocabulary of the whole product. Keys are short snake_case strings (they appear
in the API, in the database and in the policy log) and never change meaning once published.

* A **data category** groups profile fields and carries a `Sensitivity`. Sensitive categories follow
  the special categories of the product brief (health, religion, ethnicity, sexual life, politics,
  precise location, finances, biometrics) and are opt-in.
* A **purpose** is what a supplier wants the data for. Purposes follow the W3C Data Privacy
  Vocabulary (DPV 2.x, namespace https://w3id.org/dpv#). Purposes that sell or transfer data to
  third parties are opt-in. DPV has no *purpose* for sharing without a sale; it models sharing as
  the processing operation `dpv:Share`, so `share_data_with_third_parties` points at that IRI.
* A **release kind** is the form in which a decision lets data leave the broker. Releasing identity
  is opt-in (product brief, non-negotiable 5).

The module only describes; what the descriptions imply for a decision lives in `decision.py`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from consent.errors import UnknownKey


class Sensitivity(enum.StrEnum):
    """How carefully a category must be handled: sensitive data is opt-in."""

    ORDINARY = "ordinary"
    SENSITIVE = "sensitive"


class Category(enum.StrEnum):
    """A data category. Member order is the catalog order used for stable output."""

    # Hash as the plain string (consistent with str equality, which StrEnum keeps): Enum's own
    # __hash__ is Python code, and decide() hashes vocabulary keys on its hot path.
    __hash__ = str.__hash__

    IDENTITY = "identity"
    CONTACT = "contact"
    DEMOGRAPHICS = "demographics"
    INTERESTS = "interests"
    PREFERENCES = "preferences"
    LIFE_EVENTS = "life_events"
    ACTIVITY = "activity"
    PURCHASES = "purchases"
    PRECISE_LOCATION = "precise_location"
    HEALTH = "health"
    RELIGION = "religion"
    ETHNICITY = "ethnicity"
    POLITICAL_OPINION = "political_opinion"
    SEXUAL_ORIENTATION = "sexual_orientation"
    FINANCES = "finances"
    BIOMETRICS = "biometrics"


class Purpose(enum.StrEnum):
    """A purpose of processing, keyed after the DPV concept it stands for."""

    # Hash as the plain string (consistent with str equality, which StrEnum keeps): Enum's own
    # __hash__ is Python code, and decide() hashes vocabulary keys on its hot path.
    __hash__ = str.__hash__

    SERVICE_PROVISION = "service_provision"
    PERSONALISATION = "personalisation"
    MARKETING = "marketing"
    DIRECT_MARKETING = "direct_marketing"
    SERVICE_MESSAGES = "service_messages"
    TARGETED_ADVERTISING = "targeted_advertising"
    RESEARCH_AND_DEVELOPMENT = "research_and_development"
    SELL_DATA_TO_THIRD_PARTIES = "sell_data_to_third_parties"
    SELL_INSIGHTS_FROM_DATA = "sell_insights_from_data"
    SHARE_DATA_WITH_THIRD_PARTIES = "share_data_with_third_parties"


class ReleaseKind(enum.StrEnum):
    """The form in which data leaves the broker for a supplier."""

    # Hash as the plain string (consistent with str equality, which StrEnum keeps): Enum's own
    # __hash__ is Python code, and decide() hashes vocabulary keys on its hot path.
    __hash__ = str.__hash__

    AGGREGATE_COUNT = "aggregate_count"
    PSEUDONYMOUS_SLICE = "pseudonymous_slice"
    OFFER_DELIVERY = "offer_delivery"
    IDENTITY_RELEASE = "identity_release"
    MESSAGE_DELIVERY = "message_delivery"


@dataclass(frozen=True, slots=True)
class CategorySpec:
    """What a category means, for consumers (label, description) and for the rules (sensitivity)."""

    category: Category
    sensitivity: Sensitivity
    label: str
    description: str


@dataclass(frozen=True, slots=True)
class PurposeSpec:
    """What a purpose means; `sale_or_transfer` marks the purposes that are always opt-in."""

    purpose: Purpose
    dpv_iri: str
    label: str
    description: str
    sale_or_transfer: bool


@dataclass(frozen=True, slots=True)
class ReleaseKindSpec:
    """What a release kind hands over; `opt_in` marks kinds that need an explicit grant."""

    release_kind: ReleaseKind
    label: str
    description: str
    opt_in: bool


_O = Sensitivity.ORDINARY
_S = Sensitivity.SENSITIVE

CATEGORIES: Final[Mapping[Category, CategorySpec]] = MappingProxyType(
    {
        spec.category: spec
        for spec in (
            CategorySpec(Category.IDENTITY, _O, "Who you are", "Your name."),
            CategorySpec(
                Category.CONTACT,
                _O,
                "How to reach you",
                "Your email address, phone number and postal address.",
            ),
            CategorySpec(
                Category.DEMOGRAPHICS,
                _O,
                "About you",
                "Your birth date, gender, household, occupation and income band.",
            ),
            CategorySpec(
                Category.INTERESTS, _O, "Your interests", "Topics and hobbies you told us you like."
            ),
            CategorySpec(
                Category.PREFERENCES,
                _O,
                "Your preferences",
                "Brands, sizes, styles and ways you like to be served.",
            ),
            CategorySpec(
                Category.LIFE_EVENTS,
                _O,
                "Your life events",
                "Moves, weddings, new children and similar milestones.",
            ),
            CategorySpec(
                Category.ACTIVITY,
                _O,
                "What you do on sites",
                "Pages you viewed, searches, items put in or taken out of a cart, and ratings.",
            ),
            CategorySpec(
                Category.PURCHASES,
                _O,
                "What you bought",
                "Your purchases and what follows from them, such as how often and how much you buy.",
            ),
            CategorySpec(
                Category.PRECISE_LOCATION,
                _S,
                "Where you are exactly",
                "Your precise location, for example from your phone's GPS.",
            ),
            CategorySpec(
                Category.HEALTH, _S, "Your health", "Anything about your physical or mental health."
            ),
            CategorySpec(Category.RELIGION, _S, "Your religion", "Your religious or philosophical beliefs."),
            CategorySpec(Category.ETHNICITY, _S, "Your ethnic origin", "Your racial or ethnic origin."),
            CategorySpec(
                Category.POLITICAL_OPINION, _S, "Your politics", "Your political opinions and affiliations."
            ),
            CategorySpec(
                Category.SEXUAL_ORIENTATION, _S, "Your sex life", "Your sexual orientation and sex life."
            ),
            CategorySpec(
                Category.FINANCES,
                _S,
                "Your finances",
                "Your bank, credit, debt and other detailed financial information.",
            ),
            CategorySpec(
                Category.BIOMETRICS,
                _S,
                "Your body's data",
                "Fingerprints, face and voice prints and similar data.",
            ),
        )
    }
)

_DPV: Final = "https://w3id.org/dpv#"

PURPOSES: Final[Mapping[Purpose, PurposeSpec]] = MappingProxyType(
    {
        spec.purpose: spec
        for spec in (
            PurposeSpec(
                Purpose.SERVICE_PROVISION,
                _DPV + "ServiceProvision",
                "Providing a service you use",
                "To run a service you signed up for, such as delivering what you ordered.",
                sale_or_transfer=False,
            ),
            PurposeSpec(
                Purpose.PERSONALISATION,
                _DPV + "Personalisation",
                "Tailoring to you",
                "To adapt what a supplier shows you to your tastes.",
                sale_or_transfer=False,
            ),
            PurposeSpec(
                Purpose.MARKETING,
                _DPV + "Marketing",
                "Marketing",
                "To promote products and services, for example in campaigns you may see.",
                sale_or_transfer=False,
            ),
            PurposeSpec(
                Purpose.DIRECT_MARKETING,
                _DPV + "DirectMarketing",
                "Offers sent to you",
                "To send offers directly to you, through your infomediary inbox.",
                sale_or_transfer=False,
            ),
            PurposeSpec(
                # Mail about something she asked for (an order, a booking), through her relay address; not
                # promotion, which is `direct_marketing` (`infomediary.relay.inbound` tells them apart).
                Purpose.SERVICE_MESSAGES,
                _DPV + "CommunicationForCustomerCare",
                "Messages about what you asked for",
                "To write to you about an order, a booking or another service you use, at your relay "
                "address.",
                sale_or_transfer=False,
            ),
            PurposeSpec(
                Purpose.TARGETED_ADVERTISING,
                _DPV + "TargetedAdvertising",
                "Targeted ads",
                "To choose which advertisements to show you based on your data.",
                sale_or_transfer=False,
            ),
            PurposeSpec(
                Purpose.RESEARCH_AND_DEVELOPMENT,
                _DPV + "ResearchAndDevelopment",
                "Research and new products",
                "To study trends and build better products and services.",
                sale_or_transfer=False,
            ),
            PurposeSpec(
                Purpose.SELL_DATA_TO_THIRD_PARTIES,
                _DPV + "SellDataToThirdParties",
                "Selling your data",
                "To sell your data to other companies.",
                sale_or_transfer=True,
            ),
            PurposeSpec(
                Purpose.SELL_INSIGHTS_FROM_DATA,
                _DPV + "SellInsightsFromData",
                "Selling conclusions drawn from your data",
                "To sell what is worked out from your data, such as a score, to other companies.",
                sale_or_transfer=True,
            ),
            PurposeSpec(
                Purpose.SHARE_DATA_WITH_THIRD_PARTIES,
                # DPV names sharing as a processing operation, not a purpose: see module docstring.
                _DPV + "Share",
                "Passing your data on",
                "To give your data to other companies, even without payment.",
                sale_or_transfer=True,
            ),
        )
    }
)

RELEASE_KINDS: Final[Mapping[ReleaseKind, ReleaseKindSpec]] = MappingProxyType(
    {
        spec.release_kind: spec
        for spec in (
            ReleaseKindSpec(
                ReleaseKind.AGGREGATE_COUNT,
                "Counted in a group",
                "You are counted in a noisy total; the supplier learns nothing about you alone.",
                opt_in=False,
            ),
            ReleaseKindSpec(
                ReleaseKind.PSEUDONYMOUS_SLICE,
                "Shared under a nickname",
                "Generalised data is shared under a code name that only this supplier sees.",
                opt_in=False,
            ),
            ReleaseKindSpec(
                ReleaseKind.OFFER_DELIVERY,
                "Sent an offer",
                "An offer is put in your inbox; the supplier does not learn who you are.",
                opt_in=False,
            ),
            ReleaseKindSpec(
                ReleaseKind.IDENTITY_RELEASE,
                "Told who you are",
                "The supplier learns your name or contact details.",
                opt_in=True,
            ),
            ReleaseKindSpec(
                ReleaseKind.MESSAGE_DELIVERY,
                "Passed a message",
                "A message the supplier wrote is passed to you at your relay address; it never learns your "
                "own address.",
                opt_in=False,
            ),
        )
    }
)

# Flat sets derived once from the specs above: the decision point tests membership in these
# instead of walking specs, which keeps `decide()` to a few hash lookups.
SENSITIVE_CATEGORIES: Final[frozenset[Category]] = frozenset(
    c for c, spec in CATEGORIES.items() if spec.sensitivity is Sensitivity.SENSITIVE
)
SALE_OR_TRANSFER_PURPOSES: Final[frozenset[Purpose]] = frozenset(
    p for p, spec in PURPOSES.items() if spec.sale_or_transfer
)
OPT_IN_RELEASE_KINDS: Final[frozenset[ReleaseKind]] = frozenset(
    k for k, spec in RELEASE_KINDS.items() if spec.opt_in
)

# Position of each category in vocabulary order, for sorting outputs deterministically (set iteration
# order of string enums depends on the per-process hash seed).
CATEGORY_ORDER: Final[Mapping[Category, int]] = MappingProxyType({c: i for i, c in enumerate(Category)})


def sensitivity(category: Category) -> Sensitivity:
    """The sensitivity of `category`."""
    return CATEGORIES[category].sensitivity


def is_sensitive(category: Category) -> bool:
    """True for the special categories that are opt-in."""
    return category in SENSITIVE_CATEGORIES


def is_sale_or_transfer(purpose: Purpose) -> bool:
    """True for purposes that sell or hand data to third parties (opt-in, subject to GPC)."""
    return purpose in SALE_OR_TRANSFER_PURPOSES


def parse_category(key: str) -> Category:
    """The category for an API key; raises `UnknownKey` with the list of valid keys."""
    try:
        return Category(key)
    except ValueError:
        valid = [c.value for c in Category]
        raise UnknownKey(f"unknown data category {key!r}; expected one of {valid}") from None


def parse_purpose(key: str) -> Purpose:
    """The purpose for an API key; raises `UnknownKey` with the list of valid keys."""
    try:
        return Purpose(key)
    except ValueError:
        raise UnknownKey(f"unknown purpose {key!r}; expected one of {[p.value for p in Purpose]}") from None


def parse_release_kind(key: str) -> ReleaseKind:
    """The release kind for an API key; raises `UnknownKey` with the list of valid keys."""
    try:
        return ReleaseKind(key)
    except ValueError:
        raise UnknownKey(
            f"unknown release kind {key!r}; expected one of {[k.value for k in ReleaseKind]}"
        ) from None
