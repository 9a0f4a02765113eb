"""Attack: read the service's logs. A representative flow runs with every log captured (structlog's lines and
stdlib logging, at DEBUG so nothing is filtered away), and the captured text is searched for the passwords,
session and access tokens, client secrets, emails and profile values the flow used."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Iterator

import pyotp
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from infomediary.runtime import Runtime
from infomediary.settings import Settings
from tests.conftest import ISSUER
from tests.fixtures.actors import make_auditor, make_supplier
from tests.fixtures.consents import later, publish
from tests.fixtures.mail import last_token
from tests.fixtures.runtimes import reconfigured

# Distinctive values: none of them can appear in a log by coincidence.
EMAIL = "Quillon.Vexmarsh@Example.org"
PASSWORD = "pw-Zanzibar-Quokka-8841-Tessellate"
NEW_PASSWORD = "pw-Marzipan-Okapi-5527-Filigree"
PROFILE = {
    "given_name": "Xerxilda",
    "family_name": "Pommeraunt",
    "occupation": "glassblower-Vantablack",
    "postal_code": "75011",
    "gender": "female",
    "birth_date": "1990-05-01",
    "interests": ["cycling"],
    "health_conditions": ["Hyperzygotic-asthma"],
}


@pytest.fixture
def debug_app(runtime: Runtime, settings: Settings) -> Iterator[TestClient]:
    verbose = reconfigured(runtime, log_level="DEBUG", audience_min_cohort=0)
    with TestClient(create_app(runtime=verbose), base_url=ISSUER) as client:
        yield client
    # Later tests configure logging again through their own app; leave the root logger as they expect.
    logging.getLogger().setLevel(logging.WARNING)


def test_a_full_flow_leaves_no_secret_or_personal_value_in_the_logs(
    debug_app: TestClient,
    runtime: Runtime,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    http = debug_app
    caplog.set_level(logging.DEBUG)
    needles: dict[str, str] = {"password": PASSWORD, "new password": NEW_PASSWORD, "email": EMAIL}
    needles["email local part"] = EMAIL.split("@")[0]
    needles.update({f"profile {k}": v for k, v in PROFILE.items() if isinstance(v, str) and len(v) > 6})
    needles["profile health"] = PROFILE["health_conditions"][0]

    assert http.post("/v1/accounts", json={"email": EMAIL, "password": PASSWORD}).status_code == 202
    # The address taken, a link asked for again, a password reset asked for and completed: every token
    # mailed, and the mails themselves, stay out of the logs.
    assert http.post("/v1/accounts", json={"email": EMAIL, "password": NEW_PASSWORD}).status_code == 202
    assert http.post("/v1/accounts/verify/resend", json={"email": EMAIL}).status_code == 202
    verification = last_token(runtime, EMAIL, "/verify-email")
    needles["verification token"] = verification
    assert http.post("/v1/accounts/verify", json={"token": verification}).status_code == 204
    assert http.post("/v1/accounts/password-reset", json={"email": EMAIL}).status_code == 202
    reset = last_token(runtime, EMAIL, "/reset-password")
    needles["reset token"] = reset
    completed = http.post(
        "/v1/accounts/password-reset/complete", json={"token": reset, "new_password": PASSWORD}
    )
    assert completed.status_code == 204
    wrong = http.post("/v1/session", json={"email": EMAIL, "password": PASSWORD + "-wrong"})
    assert wrong.status_code == 401
    needles["wrong password"] = PASSWORD + "-wrong"
    login = http.post("/v1/session", json={"email": EMAIL, "password": PASSWORD})
    assert login.status_code == 200
    token = login.json()["access_token"]
    needles["session token"] = token
    consumer = {"Authorization": f"Bearer {token}"}
    # A malformed body carrying a password: the 422 must not echo it, nor may the log.
    bad = http.post("/v1/accounts", json={"email": "not-an-email", "password": "pw-Leaky-Validation-3319"})
    assert bad.status_code == 422 and "pw-Leaky" not in bad.text
    needles["password in a rejected body"] = "pw-Leaky-Validation-3319"

    assert http.patch("/v1/me/profile", json=PROFILE, headers=consumer).status_code == 200
    assert http.get("/v1/me/profile", headers=consumer).status_code == 200
    assert http.get("/v1/me/export", headers=consumer).status_code == 200

    supplier = make_supplier(runtime, name=f"Logged Supplier {secrets.token_hex(2)}")
    needles["client secret"] = supplier.client_secret
    supplier_token = supplier.token(http)
    needles["access token"] = supplier_token
    needles["access token signature"] = supplier_token.rsplit(".", 1)[1]
    supplier_headers = {"Authorization": f"Bearer {supplier_token}"}
    publish(http, supplier, ["marketing"], ["identity", "contact", "demographics", "interests"])
    grant = http.post(
        "/v1/me/consents",
        json={
            "supplier_id": supplier.owner_id,
            "purpose": "marketing",
            "category": "interests",
            "decision": "grant",
        },
        headers=consumer,
    )
    assert grant.status_code in {200, 201}, grant.text
    count = http.post(
        "/v1/audiences/count",
        json={"purpose": "marketing", "predicate": {"eq": ["gender", "female"]}},
        headers=supplier_headers,
    )
    assert count.status_code == 200, count.text
    offer = http.post(
        "/v1/offers",
        json={
            "content": "Offer-Kumquat-Telescope",
            "purpose": "marketing",
            "predicate": {"eq": ["gender", "female"]},
            "reward_per_view": 1,
            "reward_per_acceptance": 1,
            "budget_cap": 100,
            "expires_at": later(),
        },
        headers={**supplier_headers, "Idempotency-Key": "log-test-1"},
    )
    assert offer.status_code == 201, offer.text
    offer_id = offer.json()["id"]
    assert http.post(f"/v1/me/offers/{offer_id}/view", headers=consumer).status_code == 200
    accepted = http.post(
        f"/v1/me/offers/{offer_id}/accept", json={"release_identity": False}, headers=consumer
    )
    assert accepted.status_code == 200, accepted.text
    wrong_secret = http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(supplier.client_id, "sk-Guessed-9921"),
    )
    assert wrong_secret.status_code == 401
    needles["guessed client secret"] = "sk-Guessed-9921"
    assert http.post(
        "/oauth/revoke", data={"token": supplier_token}, auth=(supplier.client_id, supplier.client_secret)
    ).is_success

    auditor = make_auditor(runtime)
    needles["auditor secret"] = auditor.client_secret
    auditor_headers = auditor.headers(http)
    needles["auditor token"] = auditor_headers["Authorization"].split()[1]
    assert http.get("/v1/audit/tree-head", headers=auditor_headers).status_code == 200

    # Two-step sign-in: the authenticator's secret, the recovery codes and the sign-in challenge.
    started = http.post("/v1/me/second-factor", json={"password": PASSWORD}, headers=consumer)
    secret = started.json()["secret"]
    needles["totp secret"] = secret
    totp = pyotp.TOTP(secret)
    moment = time.time()
    confirmed = http.post(
        "/v1/me/second-factor/confirm", json={"code": totp.at(moment - 30)}, headers=consumer
    )
    codes = confirmed.json()["recovery_codes"]
    needles.update({f"recovery code {n}": code for n, code in enumerate(codes)})
    challenge = http.post("/v1/session", json={"email": EMAIL, "password": PASSWORD}).json()["challenge"]
    needles["sign-in challenge"] = challenge
    assert http.post("/v1/session/second-factor", json={"challenge": challenge, "code": codes[0]}).is_success

    changed = http.post(
        "/v1/me/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD, "code": totp.at(moment)},
        headers=consumer,
    )
    assert changed.status_code in {200, 204, 404, 405}  # whichever the API offers; it must not log either way
    confirmation = {"password": NEW_PASSWORD, "code": codes[1]}
    assert http.request("DELETE", "/v1/me", json=confirmation, headers=consumer).status_code == 200

    captured = capfd.readouterr()
    logs = "\n".join([captured.out, captured.err, caplog.text, *(str(r.__dict__) for r in caplog.records)])
    # The capture saw the flow, so a clean result means something.
    assert '"route": "/v1/me/profile"' in logs and "/v1/audiences/count" in logs, "no access log captured"
    assert len(caplog.records) > 20, "stdlib logging was not captured"
    leaks = {what: value for what, value in needles.items() if value.lower() in logs.lower()}
    for what, value in leaks.items():
        line = next(x for x in logs.splitlines() if value.lower() in x.lower())
        print("LEAK", what, line[:600])
    assert not leaks, f"secrets or personal values found in the logs: {sorted(leaks)}"
