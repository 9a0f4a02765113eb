"""Signed consent receipts: `consent.receipts.build_receipt` output as a JWS under the service's ES256 key.

The receipt verifies against `/.well-known/jwks.json` (header `kid`, `typ` "consent-receipt+jwt"). The
Kantara v1.1 body describes what a consent covers; its ISO/IEC TS 27560 status (given, refused, withdrawn)
is carried in `consentStatus` as the DPV IRI, because v1.1 itself only knows given consent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, Final

from joserfc import jwt

from consent.receipts import PiiController, build_receipt
from consent.records import ALL_SUPPLIERS, STATE_DPV_IRI, ConsentRecord, ConsentState
from infomediary.ids import new_id
from infomediary.policylog.service import log_pseudonym
from infomediary.runtime import Runtime

RECEIPT_TYP: Final = "consent-receipt+jwt"
COLLECTION_METHOD: Final = "Customer's own action in the infomediary consent portfolio (API)"


def _as_scope(record: ConsentRecord) -> ConsentRecord:
    # build_receipt describes given consents only; the scope is the same for a refusal or withdrawal, and the
    # real state travels in `consentStatus`. A version is filled in only to satisfy the given-record check.
    if record.state is ConsentState.GIVEN:
        return record
    version = None if record.supplier is ALL_SUPPLIERS else (record.policy_version or 1)
    return replace(record, state=ConsentState.GIVEN, policy_version=version)


def issue(
    runtime: Runtime,
    records: Sequence[ConsentRecord],
    *,
    status: ConsentState,
    at: datetime,
    supplier_names: Mapping[str, str],
) -> tuple[str, str]:
    """A new receipt for `records` (all in state `status`, one customer): its id and compact JWS."""
    settings = runtime.settings
    receipt_id = new_id("rct")
    customer_id = records[0].customer_id
    issuer = settings.issuer.rstrip("/")
    body: dict[str, Any] = build_receipt(
        receipt_id=receipt_id,
        # The customer as the policy log knows them: never the internal id, never a supplier's pseudonym.
        pii_principal_id=log_pseudonym(runtime, customer_id),
        consent_timestamp=at,
        jurisdiction=settings.receipt_jurisdiction,
        collection_method=COLLECTION_METHOD,
        controllers=[
            PiiController(
                name=settings.controller_name,
                contact="Data protection officer",
                email=settings.controller_email,
                url=issuer,
            )
        ],
        policy_url=f"{issuer}/privacy",
        records=[_as_scope(r) for r in records],
        supplier_names=supplier_names,
    )
    body["consentStatus"] = STATE_DPV_IRI[status]
    body["consentRecordIDs"] = [r.record_id for r in records]
    body["iss"] = settings.issuer
    body["iat"] = int(at.timestamp())
    body["jti"] = receipt_id
    keys = runtime.keys.current_signing_jwk()
    key = keys.keys[0]
    header = {"alg": "ES256", "kid": key.kid, "typ": RECEIPT_TYP}
    return receipt_id, jwt.encode(header, body, key)


class ReceiptInvalid(Exception):
    """A stored receipt that does not verify against the service's published keys."""


def verified_claims(runtime: Runtime, jws: str) -> dict[str, Any]:
    """The receipt's claims, once its signature checks out against the keys the JWKS publishes (older
    signing keys included), exactly as anyone holding the receipt can check it; `ReceiptInvalid` if not."""
    try:
        token = jwt.decode(jws, runtime.keys.verification_keys(), algorithms=["ES256"])
    except Exception as exc:  # joserfc raises several kinds; any of them means "does not verify"
        raise ReceiptInvalid(str(exc)) from None
    if token.header.get("typ") != RECEIPT_TYP:
        raise ReceiptInvalid("not a consent receipt")
    return dict(token.claims)
