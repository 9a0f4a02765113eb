"""Consent receipts: the Kantara v1.1 fields, grouping and guards."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from consent.errors import ConsentError
from consent.receipts import RECEIPT_VERSION, PiiController, build_receipt
from consent.records import ALL_CATEGORIES, ALL_SUPPLIERS, ConsentState
from consent.vocabulary import Category, Purpose
from tests.unit.consent.factories import NOW, record

CONTROLLER = PiiController(
    name="Infomediary Ltd",
    contact="Data Protection Officer",
    email="dpo@infomediary.example",
    address={"streetAddress": "1 Main St", "addressCountry": "NL"},
    url="https://infomediary.example",
)
TOP_LEVEL = {
    "version",
    "jurisdiction",
    "consentTimestamp",
    "collectionMethod",
    "consentReceiptID",
    "language",
    "piiPrincipalId",
    "piiControllers",
    "policyUrl",
    "services",
    "sensitive",
    "spiCat",
}
PURPOSE_FIELDS = {
    "purpose",
    "purposeCategory",
    "consentType",
    "piiCategory",
    "primaryPurpose",
    "termination",
    "thirdPartyDisclosure",
    "thirdPartyName",
}


def build(records, **overrides):
    kwargs = {
        "receipt_id": "rcpt-1",
        "pii_principal_id": "pseudonym-abc",
        "consent_timestamp": NOW,
        "jurisdiction": "EU",
        "collection_method": "web form at /v1/me/consents",
        "controllers": [CONTROLLER],
        "policy_url": "https://infomediary.example/privacy",
        "records": records,
        "supplier_names": {"acme": "Acme Shoes"},
    }
    kwargs.update(overrides)
    return build_receipt(**kwargs)


def test_receipt_has_the_kantara_fields() -> None:
    expiry = NOW + timedelta(days=30)
    receipt = build(
        [
            record(category=Category.HEALTH, expires_at=expiry),
            record(category=Category.INTERESTS, expires_at=expiry),
            record(purpose=Purpose.SERVICE_PROVISION, category=Category.CONTACT),
        ]
    )
    assert set(receipt) == TOP_LEVEL
    assert receipt["version"] == RECEIPT_VERSION == "KI-CR-v1.1.0"
    assert receipt["consentTimestamp"] == int(NOW.timestamp())
    assert receipt["piiPrincipalId"] == "pseudonym-abc"
    (controller,) = receipt["piiControllers"]
    assert controller["piiController"] == "Infomediary Ltd"
    assert controller["piiControllerUrl"] == "https://infomediary.example"
    assert {"onBehalf", "contact", "address", "email"} <= set(controller)
    (service,) = receipt["services"]
    assert service["service"] == "Acme Shoes"
    marketing, provision = service["purposes"]
    for purpose in (marketing, provision):
        assert set(purpose) == PURPOSE_FIELDS
        assert purpose["consentType"] == "EXPLICIT"
        assert purpose["thirdPartyDisclosure"] is True
        assert purpose["thirdPartyName"] == "Acme Shoes"
    assert marketing["purposeCategory"] == ["https://w3id.org/dpv#Marketing"]
    assert marketing["piiCategory"] == ["interests", "health"]
    assert marketing["primaryPurpose"] is False
    assert expiry.isoformat() in marketing["termination"]
    assert provision["primaryPurpose"] is True
    assert "withdraw" in provision["termination"]
    assert receipt["sensitive"] is True
    assert receipt["spiCat"] == ["health"]
    json.dumps(receipt)  # JSON-ready, for the app to sign


def test_all_categories_grant_lists_ordinary_categories_for_all_suppliers() -> None:
    receipt = build([record(supplier=ALL_SUPPLIERS, category=ALL_CATEGORIES)])
    (service,) = receipt["services"]
    assert service["service"] == "Any supplier of the infomediary"
    (purpose,) = service["purposes"]
    assert "interests" in purpose["piiCategory"]
    assert "health" not in purpose["piiCategory"]
    assert receipt["sensitive"] is False
    assert receipt["spiCat"] == []


def test_receipt_guards() -> None:
    with pytest.raises(ConsentError):
        build([])
    with pytest.raises(ConsentError, match="given consents only"):
        build([record(state=ConsentState.WITHDRAWN)])
    with pytest.raises(ConsentError):
        build([record(), record(customer_id="other")])
    with pytest.raises(ConsentError):
        build([record()], controllers=[])
