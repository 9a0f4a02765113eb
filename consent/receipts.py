"""Consent receipts: a record of what a customer consented to, in a standard shape.

The receipt follows the **Kantara Initiative Consent Receipt Specification v1.1.0** (2018), whose
field names ISO/IEC TS 27560:2023 builds on: `version`, `jurisdiction`, `consentTimestamp`,
`collectionMethod`, `consentReceiptID`, `publicKey`, `language`, `piiPrincipalId`,
`piiControllers` (`piiController`, `onBehalf`, `contact`, `address`, `email`, `phone`,
`piiControllerUrl`), `policyUrl`, `services` (`service`, `purposes`: `purpose`,
`purposeCategory`, `consentType`, `piiCategory`, `primaryPurpose`, `termination`,
`thirdPartyDisclosure`, `thirdPartyName`), `sensitive` and `spiCat`. The version string is the
spec's own, "KI-CR-v1.1.0". Written from the specification as remembered, not checked against a
copy in this environment; field names are the ones listed above.

Choices within the spec:

* `consentTimestamp` is integer seconds since the Unix epoch, as v1.1 defines it.
* `purposeCategory` carries the purpose's W3C DPV IRI (the vocabulary ISO/IEC TS 27560 points to).
* `piiCategory` and `spiCat` carry vocabulary keys (stable, machine-readable); a grant for
  ALL_CATEGORIES lists the ordinary categories only, because that is what such a grant opens
  (`decision` rule 4d: sensitive data needs a grant naming the category).
* Every record on a receipt is an explicit `given` consent, so `consentType` is "EXPLICIT".
* Suppliers are third parties to the infomediary (the PII controller), so `thirdPartyDisclosure`
  is true and `thirdPartyName` names the supplier.

This module only builds the JSON-ready dict; signing it (JWS) is the app's job, and so is choosing
the pseudonym that goes into `piiPrincipalId`: the customer id itself never leaves the broker.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from consent.errors import ConsentError, InvalidRecord
from consent.records import ALL_CATEGORIES, ALL_SUPPLIERS, ConsentRecord, ConsentState, SupplierScope
from consent.vocabulary import CATEGORIES, PURPOSES, SENSITIVE_CATEGORIES, Category, Purpose

RECEIPT_VERSION: Final = "KI-CR-v1.1.0"
CONSENT_TYPE_EXPLICIT: Final = "EXPLICIT"
ALL_SUPPLIERS_NAME: Final = "Any supplier of the infomediary"

# What an ALL_CATEGORIES grant opens: ordinary categories only (see module docstring).
_ORDINARY_CATEGORIES: Final = tuple(c for c in Category if c not in SENSITIVE_CATEGORIES)


@dataclass(frozen=True, slots=True)
class PiiController:
    """A PII controller as the receipt names it (the infomediary operator)."""

    name: str
    contact: str
    email: str
    address: Mapping[str, str] = field(default_factory=dict)
    phone: str | None = None
    url: str | None = None
    on_behalf: bool = False


def build_receipt(
    *,
    receipt_id: str,
    pii_principal_id: str,
    consent_timestamp: datetime,
    jurisdiction: str,
    collection_method: str,
    controllers: Sequence[PiiController],
    policy_url: str,
    records: Sequence[ConsentRecord],
    supplier_names: Mapping[str, str] | None = None,
    language: str = "en",
    public_key: str | None = None,
) -> dict[str, object]:
    """A Kantara v1.1 consent receipt for `records`, which must all be `given` and of one customer.

    `pii_principal_id` is the pseudonym the app chose for the customer; `supplier_names` maps supplier
    ids to the names shown as services (the id is used when a name is missing).
    """
    if not records:
        raise ConsentError("a consent receipt needs at least one consent record")
    if not controllers:
        raise ConsentError("a consent receipt names at least one PII controller")
    if consent_timestamp.utcoffset() is None:
        raise InvalidRecord("consent_timestamp must be timezone-aware (UTC)")
    if len({r.customer_id for r in records}) != 1:
        raise ConsentError("a consent receipt covers the records of one customer")
    not_given = [r.record_id for r in records if r.state is not ConsentState.GIVEN]
    if not_given:
        raise ConsentError(f"a consent receipt lists given consents only; not given: {not_given}")
    names = supplier_names or {}

    # Group by service (supplier), then by purpose and expiry (so each entry has one exact
    # termination), keeping first-seen order for a stable document.
    grouped: dict[SupplierScope, dict[tuple[Purpose, datetime | None], list[ConsentRecord]]] = {}
    for record in records:
        key = (record.purpose, record.expires_at)
        grouped.setdefault(record.supplier, {}).setdefault(key, []).append(record)

    services: list[dict[str, object]] = []
    all_categories: set[Category] = set()
    for supplier, by_purpose in grouped.items():
        service_name = ALL_SUPPLIERS_NAME if supplier is ALL_SUPPLIERS else names.get(supplier, supplier)
        purposes: list[dict[str, object]] = []
        for (purpose, expires_at), purpose_records in by_purpose.items():
            categories = _categories(purpose_records)
            all_categories.update(categories)
            spec = PURPOSES[purpose]
            purposes.append(
                {
                    "purpose": spec.description,
                    "purposeCategory": [spec.dpv_iri],
                    "consentType": CONSENT_TYPE_EXPLICIT,
                    "piiCategory": [c.value for c in categories],
                    "primaryPurpose": purpose is Purpose.SERVICE_PROVISION,
                    "termination": _termination(expires_at),
                    "thirdPartyDisclosure": True,
                    "thirdPartyName": service_name,
                }
            )
        services.append({"service": service_name, "purposes": purposes})

    sensitive = [c for c in CATEGORIES if c in all_categories and c in SENSITIVE_CATEGORIES]
    receipt: dict[str, object] = {
        "version": RECEIPT_VERSION,
        "jurisdiction": jurisdiction,
        "consentTimestamp": int(consent_timestamp.timestamp()),
        "collectionMethod": collection_method,
        "consentReceiptID": receipt_id,
        "language": language,
        "piiPrincipalId": pii_principal_id,
        "piiControllers": [_controller(c) for c in controllers],
        "policyUrl": policy_url,
        "services": services,
        "sensitive": bool(sensitive),
        "spiCat": [c.value for c in sensitive],
    }
    if public_key is not None:
        receipt["publicKey"] = public_key
    return receipt


def _categories(records: Sequence[ConsentRecord]) -> list[Category]:
    found: set[Category] = set()
    for record in records:
        if record.category is ALL_CATEGORIES:
            found.update(_ORDINARY_CATEGORIES)
        else:
            found.add(record.category)
    return [c for c in CATEGORIES if c in found]


def _termination(expires_at: datetime | None) -> str:
    # Withdrawal is always possible, so it is part of every termination sentence.
    if expires_at is None:
        return "Until you withdraw it, which you can do at any time."
    return f"Until {expires_at.isoformat()}, or until you withdraw it earlier, which you can do at any time."


def _controller(controller: PiiController) -> dict[str, object]:
    entry: dict[str, object] = {
        "piiController": controller.name,
        "onBehalf": controller.on_behalf,
        "contact": controller.contact,
        "address": dict(controller.address),
        "email": controller.email,
    }
    if controller.phone is not None:
        entry["phone"] = controller.phone
    if controller.url is not None:
        entry["piiControllerUrl"] = controller.url
    return entry
