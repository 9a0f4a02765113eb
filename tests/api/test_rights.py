"""The consumer's rights over the whole vault: export everything (streamed), restrict processing, and erase
the account with a signed receipt that an independent JOSE library verifies."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import jwt
from fastapi.testclient import TestClient

from infomediary.runtime import Runtime
from tests.fixtures.actors import PASSWORD, erase, make_consumer
from tests.fixtures.mail import messages_to

ISSUER = "http://127.0.0.1:8000"


def test_export_holds_profile_history_activity_and_derived_figures(http: TestClient) -> None:
    consumer = make_consumer(http)
    http.patch("/v1/me/profile", headers=consumer.headers, json={"given_name": "Ada", "religion": "none"})
    at = (datetime.now(UTC) - timedelta(days=2)).isoformat()
    records = [{"kind": "view", "occurred_at": at, "item": f"sku:{i}"} for i in range(1_203)]
    for start in range(0, len(records), 500):
        http.post("/v1/me/activity", headers=consumer.headers, json={"records": records[start : start + 500]})
    http.post("/v1/me/restriction", headers=consumer.headers)

    with http.stream("GET", "/v1/me/export", headers=consumer.headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/json")
        body = b"".join(response.iter_bytes())
    document = json.loads(body)
    assert document["format"] == "infomediary.export/v2"
    assert document["account"]["id"] == consumer.shown_id
    assert {f["key"]: f["value"] for f in document["profile"]} == {
        "email": consumer.email,
        "given_name": "Ada",
        "religion": "none",
    }
    assert [h["field"] for h in document["history"]] == ["email", "given_name", "religion"]
    assert [a["record"]["item"] for a in document["activity"]] == [f"sku:{i}" for i in range(1_203)]
    assert document["restriction"]["restricted"] is True
    assert document["derived"]["frequency"] == 0


def test_restriction_is_set_shown_and_lifted(http: TestClient) -> None:
    consumer = make_consumer(http)
    assert http.get("/v1/me/restriction", headers=consumer.headers).json() == {
        "restricted": False,
        "since": None,
    }
    first = http.post("/v1/me/restriction", headers=consumer.headers).json()
    again = http.post("/v1/me/restriction", headers=consumer.headers).json()
    assert first["restricted"] is True and again["since"] == first["since"]
    assert http.get("/v1/me/restriction", headers=consumer.headers).json() == first
    lifted = http.delete("/v1/me/restriction", headers=consumer.headers).json()
    assert lifted == {"restricted": False, "since": None}


def test_erasure_returns_a_verifiable_receipt_and_the_account_is_gone(
    http: TestClient, runtime: Runtime
) -> None:
    consumer = make_consumer(http)
    other = make_consumer(http)
    http.patch("/v1/me/profile", headers=consumer.headers, json={"given_name": "Ada"})
    at = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    http.post(
        "/v1/me/activity",
        headers=consumer.headers,
        json={"records": [{"kind": "view", "occurred_at": at, "item": "a"}]},
    )

    erased = erase(http, consumer.headers)
    assert erased.status_code == 200, erased.text
    body = erased.json()
    assert body["account"] == consumer.shown_id and body["erasure_key_destroyed"] is True
    assert body["rows_deleted"]["profile_fields"] == 2 and body["rows_deleted"]["activity_records"] == 1

    token = body["receipt"]
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "ES256" and header["typ"] == "erasure-receipt+jwt"
    jwks = http.get("/.well-known/jwks.json").json()
    key = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    claims = jwt.decode(token, jwt.PyJWK(key).key, algorithms=["ES256"], issuer=ISSUER)
    assert claims["sub"] == consumer.shown_id
    assert claims["erasure"]["destroyed"] == {"data_key": True, "erasure_key": True}
    assert claims["erasure"]["rows_deleted"]["profile_changes"] == 2
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    try:
        jwt.decode(tampered, jwt.PyJWK(key).key, algorithms=["ES256"], issuer=ISSUER)
        raise AssertionError("a tampered receipt verified")
    except jwt.InvalidSignatureError:
        pass

    assert http.get("/v1/me", headers=consumer.headers).status_code == 401
    assert http.get("/v1/me/profile", headers=consumer.headers).status_code == 401
    login = http.post("/v1/session", json={"email": consumer.email, "password": PASSWORD})
    assert login.status_code == 401 and login.json()["type"].endswith("invalid-credentials")
    # Nobody else is touched, and the address is free to register again.
    assert http.get("/v1/me/profile", headers=other.headers).status_code == 200
    assert messages_to(runtime, consumer.email) == []  # the mail kept for her went with her
    again = http.post("/v1/accounts", json={"email": consumer.email, "password": PASSWORD})
    assert again.status_code == 202
    assert "Confirm your address" in str(messages_to(runtime, consumer.email)[-1]["Subject"])
