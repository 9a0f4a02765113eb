"""The vocabulary: exact keys, sensitivities, DPV IRIs and opt-in flags."""

from __future__ import annotations

import pytest

from consent.errors import UnknownKey
from consent.vocabulary import (
    CATEGORIES,
    OPT_IN_RELEASE_KINDS,
    PURPOSES,
    RELEASE_KINDS,
    SALE_OR_TRANSFER_PURPOSES,
    SENSITIVE_CATEGORIES,
    Category,
    Purpose,
    ReleaseKind,
    Sensitivity,
    parse_category,
    parse_purpose,
    parse_release_kind,
)

ORDINARY = {
    "identity",
    "contact",
    "demographics",
    "interests",
    "preferences",
    "life_events",
    "activity",
    "purchases",
}
SENSITIVE = {
    "precise_location",
    "health",
    "religion",
    "ethnicity",
    "political_opinion",
    "sexual_orientation",
    "finances",
    "biometrics",
}


def test_category_keys_and_sensitivity() -> None:
    assert {c.value for c in Category} == ORDINARY | SENSITIVE
    assert {c.value for c in SENSITIVE_CATEGORIES} == SENSITIVE
    assert all(CATEGORIES[Category(k)].sensitivity is Sensitivity.SENSITIVE for k in SENSITIVE)


def test_purposes_follow_dpv() -> None:
    assert {p.value for p in Purpose} == {
        "service_provision",
        "personalisation",
        "marketing",
        "direct_marketing",
        "service_messages",
        "targeted_advertising",
        "research_and_development",
        "sell_data_to_third_parties",
        "sell_insights_from_data",
        "share_data_with_third_parties",
    }
    assert PURPOSES[Purpose.PERSONALISATION].dpv_iri == "https://w3id.org/dpv#Personalisation"
    assert (
        PURPOSES[Purpose.SELL_DATA_TO_THIRD_PARTIES].dpv_iri == "https://w3id.org/dpv#SellDataToThirdParties"
    )
    assert all(spec.dpv_iri.startswith("https://w3id.org/dpv#") for spec in PURPOSES.values())
    assert {p.value for p in SALE_OR_TRANSFER_PURPOSES} == {
        "sell_data_to_third_parties",
        "sell_insights_from_data",
        "share_data_with_third_parties",
    }


def test_release_kinds() -> None:
    assert {k.value for k in ReleaseKind} == {
        "aggregate_count",
        "pseudonymous_slice",
        "offer_delivery",
        "identity_release",
        "message_delivery",
    }
    assert set(OPT_IN_RELEASE_KINDS) == {ReleaseKind.IDENTITY_RELEASE}


def test_every_key_has_consumer_text() -> None:
    for spec in [*CATEGORIES.values(), *PURPOSES.values(), *RELEASE_KINDS.values()]:
        assert spec.label
        assert spec.description.endswith(".")


def test_keys_hash_like_their_strings() -> None:
    # decide() relies on this for speed; it must stay consistent with StrEnum's str equality.
    assert {"health": 1}[Category.HEALTH] == 1
    assert hash(Purpose.MARKETING) == hash("marketing")


def test_parse() -> None:
    assert parse_category("health") is Category.HEALTH
    assert parse_purpose("marketing") is Purpose.MARKETING
    assert parse_release_kind("identity_release") is ReleaseKind.IDENTITY_RELEASE
    with pytest.raises(UnknownKey, match="unknown data category 'shoe_size'"):
        parse_category("shoe_size")
    with pytest.raises(UnknownKey):
        parse_purpose("Marketing")
    with pytest.raises(UnknownKey):
        parse_release_kind("")
