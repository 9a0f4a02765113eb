"""Rotating a supplier's client secret: the new one is shown once, the old one stops working at once."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from infomediary.database import unit_of_work
from infomediary.oauth import credentials
from infomediary.oauth.credentials import hash_secret
from infomediary.oauth.errors import ClientNotFound
from infomediary.runtime import Runtime
from tests.fixtures.actors import make_auditor, make_supplier
from tests.fixtures.raw_scan import raw_database_bytes


def _token_status(http: TestClient, client_id: str, secret: str) -> int:
    data = {"grant_type": "client_credentials"}
    return http.post("/oauth/token", data=data, auth=(client_id, secret)).status_code


@pytest.mark.committing  # scans the database file: needs what a commit leaves
def test_rotation_replaces_the_secret_and_only_for_the_owner(http: TestClient, runtime: Runtime) -> None:
    shop, other, auditor = make_supplier(runtime), make_supplier(runtime), make_auditor(runtime)
    with unit_of_work(runtime.session_factory) as session:
        [before] = credentials.supplier_clients(session, shop.owner_id)
        assert before.client_id == shop.client_id and before.secret_rotated_at is None
        for owner, client_id in ((other.owner_id, shop.client_id), (shop.owner_id, auditor.client_id)):
            with pytest.raises(ClientNotFound):
                credentials.rotate_supplier_secret(session, supplier_id=owner, client_id=client_id)
        rotated = credentials.rotate_supplier_secret(
            session, supplier_id=shop.owner_id, client_id=shop.client_id
        )
    assert rotated.client_id == shop.client_id and rotated.client_secret != shop.client_secret
    assert _token_status(http, shop.client_id, shop.client_secret) == 401
    assert _token_status(http, shop.client_id, rotated.client_secret) == 200
    # Nobody else's credentials moved.
    assert _token_status(http, other.client_id, other.client_secret) == 200
    assert _token_status(http, auditor.client_id, auditor.client_secret) == 200
    with unit_of_work(runtime.session_factory) as session:
        [after] = credentials.supplier_clients(session, shop.owner_id)
    assert after.secret_rotated_at is not None
    raw = raw_database_bytes(runtime)
    assert rotated.client_secret.encode() not in raw and hash_secret(rotated.client_secret) in raw
