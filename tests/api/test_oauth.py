"""Suppliers and auditors through OAuth 2.0, checked by an independent client (PyJWT, not joserfc)."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest
from fastapi import FastAPI, Security
from fastapi.testclient import TestClient

from api.bearer import auditor, supplier
from api.routing import api_router
from infomediary.database import unit_of_work
from infomediary.oauth.bearer import Principal
from infomediary.runtime import Runtime
from infomediary.sanctions import status as supplier_status
from infomediary.suppliers.models import SupplierStatus
from tests.conftest import ISSUER
from tests.fixtures.actors import make_auditor, make_consumer, make_supplier

AUDIENCE = "infomediary-api"


def _verify_independently(http: TestClient, token: str) -> dict[str, Any]:
    jwks = http.get("/.well-known/jwks.json").json()
    header = jwt.get_unverified_header(token)
    assert header["typ"] == "at+jwt"
    assert header["alg"] == "ES256"
    key = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    return jwt.decode(
        token,
        jwt.PyJWK(key).key,
        algorithms=["ES256"],
        audience=AUDIENCE,
        issuer=ISSUER,
        options={"require": ["exp", "iat", "jti", "sub", "client_id", "aud", "iss"]},
    )


def _server_signed(runtime: Runtime, **claims: Any) -> str:
    """A token signed with the server's own current key, to test claim checks (not signature checks)."""
    key = runtime.keys.current_signing_key()
    now = int(time.time())
    body = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 300,
        "jti": "j" * 16,
        "scope": "audiences:read",
    } | claims
    return jwt.encode(body, key.private_pem(), algorithm="ES256", headers={"kid": key.kid, "typ": "at+jwt"})


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_independent_client_gets_token_verifies_it_and_calls_a_route(
    http: TestClient, runtime: Runtime
) -> None:
    client = make_supplier(runtime, name="Acme", scopes=["audiences:read", "slices:read"])
    response = http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client.client_id, client.client_secret),
    )
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert 0 < body["expires_in"] <= 3600
    claims = _verify_independently(http, body["access_token"])
    assert claims["client_id"] == client.client_id
    assert set(claims["scope"].split()) == {"audiences:read", "slices:read"}
    own = http.get("/v1/supplier", headers=_bearer(body["access_token"]))
    assert own.status_code == 200
    assert own.json()["name"] == "Acme"
    assert own.json()["status"] == "active"


def test_client_secret_post_also_works_and_requested_scope_narrows_the_token(
    http: TestClient, runtime: Runtime
) -> None:
    client = make_supplier(runtime, scopes=["audiences:read", "slices:read"])
    response = http.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "scope": "slices:read",
            "client_id": client.client_id,
            "client_secret": client.client_secret,
        },
    )
    assert response.status_code == 200
    assert _verify_independently(http, response.json()["access_token"])["scope"] == "slices:read"


def test_scope_the_client_does_not_hold_is_refused(http: TestClient, runtime: Runtime) -> None:
    client = make_supplier(runtime, scopes=["audiences:read"])
    response = http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "slices:read"},
        auth=(client.client_id, client.client_secret),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


@pytest.mark.parametrize("secret", ["wrong", ""])
def test_wrong_secret_is_invalid_client(http: TestClient, runtime: Runtime, secret: str) -> None:
    client = make_supplier(runtime)
    response = http.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(client.client_id, secret)
    )
    assert response.status_code in (400, 401)
    body = response.json()
    assert body["error"] == "invalid_client"
    assert response.headers["content-type"].startswith("application/problem+json")
    assert body["status"] == response.status_code and body["type"].endswith("oauth-invalid-client")


def test_token_endpoint_rejects_json_bodies_and_other_grants(http: TestClient, runtime: Runtime) -> None:
    client = make_supplier(runtime)
    as_json = http.post(
        "/oauth/token",
        json={"grant_type": "client_credentials"},
        auth=(client.client_id, client.client_secret),
    )
    assert as_json.status_code == 400 and as_json.json()["error"] == "invalid_request"
    password = http.post(
        "/oauth/token",
        data={"grant_type": "password", "username": "x", "password": "y"},
        auth=(client.client_id, client.client_secret),
    )
    assert password.status_code == 400 and password.json()["error"] == "unsupported_grant_type"


@pytest.mark.parametrize(
    ("claims", "why"),
    [
        ({"exp": int(time.time()) - 10}, "expired"),
        ({"aud": "some-other-api"}, "wrong audience"),
        ({"iss": "https://evil.example"}, "wrong issuer"),
    ],
)
def test_tokens_with_bad_claims_are_401(
    http: TestClient, runtime: Runtime, claims: dict[str, Any], why: str
) -> None:
    client = make_supplier(runtime)
    token = _server_signed(runtime, client_id=client.client_id, sub=client.client_id, **claims)
    response = http.get("/v1/supplier", headers=_bearer(token))
    assert response.status_code == 401, why
    assert response.json()["type"].endswith("invalid-token")
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_a_correctly_signed_well_formed_token_is_accepted_so_the_claim_tests_mean_something(
    http: TestClient, runtime: Runtime
) -> None:
    client = make_supplier(runtime)
    token = _server_signed(runtime, client_id=client.client_id, sub=client.client_id)
    assert http.get("/v1/supplier", headers=_bearer(token)).status_code == 200


def test_tampered_token_is_401(http: TestClient, runtime: Runtime) -> None:
    client = make_supplier(runtime, scopes=["audiences:read"])
    header, payload, signature = client.token(http).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["scope"] = "audiences:read slices:read offers:write"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    response = http.get("/v1/supplier", headers=_bearer(f"{header}.{forged}.{signature}"))
    assert response.status_code == 401


def test_token_signed_by_another_key_is_401(http: TestClient, runtime: Runtime) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    client = make_supplier(runtime)
    attacker = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    now = int(time.time())
    token = jwt.encode(
        {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + 60,
            "jti": "x" * 16,
            "client_id": client.client_id,
            "sub": client.client_id,
        },
        attacker,
        algorithm="ES256",
        headers={"kid": runtime.keys.current_signing_key().kid, "typ": "at+jwt"},
    )
    assert http.get("/v1/supplier", headers=_bearer(token)).status_code == 401


def test_unsigned_alg_none_token_is_401(http: TestClient, runtime: Runtime) -> None:
    client = make_supplier(runtime)
    token = jwt.encode(
        {"iss": ISSUER, "aud": AUDIENCE, "client_id": client.client_id}, key=None, algorithm="none"
    )
    assert http.get("/v1/supplier", headers=_bearer(token)).status_code == 401


def test_revoked_token_is_401_and_revocation_of_garbage_is_200(http: TestClient, runtime: Runtime) -> None:
    client = make_supplier(runtime)
    token = client.token(http)
    assert http.get("/v1/supplier", headers=_bearer(token)).status_code == 200
    revoked = http.post("/oauth/revoke", data={"token": token}, auth=(client.client_id, client.client_secret))
    assert revoked.status_code == 200
    assert http.get("/v1/supplier", headers=_bearer(token)).status_code == 401
    garbage = http.post(
        "/oauth/revoke", data={"token": "not-a-token"}, auth=(client.client_id, client.client_secret)
    )
    assert garbage.status_code == 200


def test_a_supplier_cannot_revoke_another_suppliers_token(http: TestClient, runtime: Runtime) -> None:
    victim, attacker = make_supplier(runtime), make_supplier(runtime)
    token = victim.token(http)
    response = http.post(
        "/oauth/revoke", data={"token": token}, auth=(attacker.client_id, attacker.client_secret)
    )
    assert response.status_code == 400
    assert http.get("/v1/supplier", headers=_bearer(token)).status_code == 200


def test_suspended_supplier_is_403_with_a_valid_token_and_gets_no_new_one(
    http: TestClient, runtime: Runtime
) -> None:
    client = make_supplier(runtime, name="Shady")
    token = client.token(http)
    with unit_of_work(runtime.session_factory) as session:
        supplier_status.set_status(session, "Shady", SupplierStatus.SUSPENDED)
    response = http.get("/v1/supplier", headers=_bearer(token))
    assert response.status_code == 403
    assert response.json()["type"].endswith("client-suspended")
    new = http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client.client_id, client.client_secret),
    )
    assert new.status_code == 400 and new.json()["error"] == "unauthorized_client"
    with unit_of_work(runtime.session_factory) as session:
        supplier_status.set_status(session, "Shady", SupplierStatus.ACTIVE)
    assert http.get("/v1/supplier", headers=_bearer(token)).status_code == 200


def test_auditor_token_on_a_supplier_route_is_403(http: TestClient, runtime: Runtime) -> None:
    audit = make_auditor(runtime)
    response = http.get("/v1/supplier", headers=audit.headers(http))
    assert response.status_code == 403
    assert response.json()["type"].endswith("wrong-actor")


def test_consumer_and_supplier_credentials_never_cross(http: TestClient, runtime: Runtime) -> None:
    consumer = make_consumer(http)
    client = make_supplier(runtime)
    assert http.get("/v1/supplier", headers=consumer.headers).status_code == 401
    assert http.get("/v1/me", headers=client.headers(http)).status_code == 401
    assert http.get("/v1/me", headers=consumer.headers).status_code == 200


@pytest.fixture
def scoped_app(app: FastAPI) -> FastAPI:
    """Routes guarded the way every brokered route is: the scope named in the signature."""
    router = api_router()

    @router.get("/v1/test-only/audiences")
    def needs_audiences(caller: Principal = Security(supplier, scopes=["audiences:read"])) -> dict[str, str]:
        return {"supplier": caller.owner_id}

    @router.get("/v1/test-only/audit")
    def needs_audit_write(caller: Principal = Security(auditor, scopes=["audit:write"])) -> dict[str, str]:
        return {"auditor": caller.owner_id}

    app.include_router(router)
    return app


def test_token_without_the_routes_scope_is_403_insufficient_scope(
    scoped_app: FastAPI, runtime: Runtime
) -> None:
    with TestClient(scoped_app, base_url=ISSUER) as http:
        client = make_supplier(runtime, scopes=["audiences:read", "slices:read"])
        narrow = client.headers(http, scope="slices:read")
        response = http.get("/v1/test-only/audiences", headers=narrow)
        assert response.status_code == 403
        assert response.json()["error"] == "insufficient_scope"
        assert 'error="insufficient_scope"' in response.headers["www-authenticate"]
        assert http.get("/v1/test-only/audiences", headers=client.headers(http)).json() == {
            "supplier": client.owner_id
        }
        audit = make_auditor(runtime)
        assert http.get("/v1/test-only/audiences", headers=audit.headers(http)).status_code == 403
        assert (
            http.get("/v1/test-only/audit", headers=audit.headers(http, scope="audit:read")).status_code
            == 403
        )
        assert http.get("/v1/test-only/audit", headers=audit.headers(http)).status_code == 200


def test_signing_key_rotation_keeps_old_tokens_valid_and_jwks_lists_both(
    http: TestClient, runtime: Runtime
) -> None:
    client = make_supplier(runtime)
    old_token = client.token(http)
    old_kid = jwt.get_unverified_header(old_token)["kid"]
    runtime.keys.rotate_signing_key()
    kids = [k["kid"] for k in http.get("/.well-known/jwks.json").json()["keys"]]
    assert old_kid in kids and len(kids) == 2
    new_token = client.token(http)
    assert jwt.get_unverified_header(new_token)["kid"] != old_kid
    for token in (old_token, new_token):
        _verify_independently(http, token)
        assert http.get("/v1/supplier", headers=_bearer(token)).status_code == 200


def test_server_metadata_per_rfc8414(http: TestClient) -> None:
    meta = http.get("/.well-known/oauth-authorization-server").json()
    assert meta["issuer"] == ISSUER
    assert meta["token_endpoint"] == f"{ISSUER}/oauth/token"
    assert meta["jwks_uri"] == f"{ISSUER}/.well-known/jwks.json"
    assert meta["grant_types_supported"] == ["client_credentials"]
    assert "audit:read" in meta["scopes_supported"] and "audiences:read" in meta["scopes_supported"]


def test_a_supplier_without_scopes_gets_a_token_for_its_own_record_only(
    http: TestClient, runtime: Runtime
) -> None:
    supplier = make_supplier(runtime, scopes=[])
    headers = supplier.headers(http)
    assert http.get("/v1/supplier", headers=headers).status_code == 200
    refused = http.get("/v1/audiences/dimensions", headers=headers)
    assert refused.status_code == 403 and refused.json()["type"].endswith("insufficient-scope")
