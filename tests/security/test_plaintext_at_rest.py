"""Attack: take a copy of the database and look for the customers' emails, passwords and account secrets."""

from __future__ import annotations

import base64
import hashlib

import pyotp
import pytest
from fastapi.testclient import TestClient

from infomediary.runtime import Runtime
from infomediary.vouchers import code as codes
from tests.fixtures.actors import make_consumer, make_supplier
from tests.fixtures.mail import last_token, link_token, messages_to, text_of
from tests.fixtures.raw_scan import raw_database_bytes
from tests.fixtures.vouchers import fund, issued_code, redeem

# Real commits on the real engines: this module's tests race connections or read what a commit leaves.
pytestmark = pytest.mark.committing


def _variants(value: str) -> list[bytes]:
    return [v.encode(enc) for v in {value, value.lower(), value.upper()} for enc in ("utf-8", "utf-16-le")]


def test_raw_database_holds_no_email_password_or_client_secret(http: TestClient, runtime: Runtime) -> None:
    people = [
        ("Marie.Curie@Example.org", "radium and polonium 1898"),
        ("alan@example.org", "enigma bombe 1940"),
    ]
    for email, password in people:
        make_consumer(http, email=email, password=password)
    client = make_supplier(runtime, name="Secretive Supplier")
    client.token(http)  # exercise the token path too

    raw = raw_database_bytes(runtime)
    assert len(raw) > 1000, "the scan read nothing; it would pass vacuously"
    assert b"Secretive Supplier" in raw, "the scan must see ordinary data, or it proves nothing"
    for email, password in people:
        local_part = email.split("@")[0]
        for needle in (*_variants(email), *_variants(local_part), *_variants(password)):
            assert needle not in raw, f"plaintext found at rest: {needle!r}"
    for needle in _variants(client.client_secret):
        assert needle not in raw


def test_raw_database_holds_no_mailed_token_challenge_totp_secret_or_recovery_code(
    http: TestClient, runtime: Runtime
) -> None:
    """Every secret of the accounts' own: the links mailed (used and pending), the sign-in challenge, the
    authenticator's secret and the recovery codes. Only hashes, tags and sealed values are at rest."""
    consumer = make_consumer(http, email="Ada.Byron@Example.org", password="analytical engine 1843")
    confirmation = [m for m in messages_to(runtime, consumer.email) if "/verify-email?token=" in text_of(m)]
    used_token = link_token(confirmation[-1], "/verify-email")
    http.post("/v1/accounts/password-reset", json={"email": consumer.email})
    pending_token = last_token(runtime, consumer.email, "/reset-password")
    http.post("/v1/accounts", json={"email": consumer.email, "password": "someone else entirely"})

    started = http.post(
        "/v1/me/second-factor", json={"password": consumer.password}, headers=consumer.headers
    )
    secret = started.json()["secret"]
    code = pyotp.TOTP(secret).now()
    confirmed = http.post("/v1/me/second-factor/confirm", json={"code": code}, headers=consumer.headers)
    recovery_codes = confirmed.json()["recovery_codes"]
    challenge = http.post("/v1/session", json={"email": consumer.email, "password": consumer.password})
    assert challenge.status_code == 202

    raw = raw_database_bytes(runtime)
    assert hashlib.sha256(pending_token.encode()).digest() in raw, "the scan must see the stored hash"
    needles = [used_token, pending_token, challenge.json()["challenge"], secret, *recovery_codes]
    needles += [c.replace("-", "") for c in recovery_codes]
    needles += [base64.b32decode(secret).hex(), consumer.email]
    for needle in needles:
        for variant in _variants(needle):
            assert variant not in raw, f"plaintext found at rest: {needle!r}"
    assert base64.b32decode(secret) not in raw


def test_raw_database_holds_no_voucher_code(http: TestClient, runtime: Runtime) -> None:
    """A voucher's code is cash: at rest only its HMAC (under a service secret) and, sealed under her erasure
    key, the copy she is shown again. Neither the code as shown, nor its digits, nor its 16 bytes."""
    consumer = make_consumer(http)
    shop = make_supplier(runtime, name="Voucher Shop")
    fund(runtime, consumer.id, 30)
    spent, unspent = (issued_code(http, consumer, shop.owner_id, 10)["code"] for _ in range(2))
    assert redeem(http, shop, spent).status_code == 200

    raw = raw_database_bytes(runtime)
    assert b"Voucher Shop" in raw, "the scan must see ordinary data, or it proves nothing"
    for shown in (spent, unspent):
        digits = shown.removeprefix("VCH-").replace("-", "")
        for needle in (*_variants(shown), *_variants(digits), codes.parse(shown)):
            assert needle not in raw, f"a voucher code at rest: {needle!r}"
        assert codes.parse(shown).hex().encode() not in raw
