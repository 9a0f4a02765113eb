"""Attack: take a copy of the database and look for the customers' emails and passwords in it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from infomediary.runtime import Runtime
from tests.fixtures.actors import make_consumer, make_supplier
from tests.fixtures.raw_scan import raw_database_bytes

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
