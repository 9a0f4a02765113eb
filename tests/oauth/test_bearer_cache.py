"""The verified-token cache saves the signature check, never the checks that can change."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from infomediary.oauth import bearer
from infomediary.oauth.bearer import BearerAuthenticator
from infomediary.oauth.errors import InvalidToken
from infomediary.runtime import Runtime
from tests.fixtures.actors import make_supplier


def test_a_cached_token_still_expires(
    http: TestClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    authenticator = BearerAuthenticator(runtime)
    token = make_supplier(runtime).token(http)
    first = authenticator.verify(token)
    assert authenticator.verify(token) is first  # served from the cache
    real_time = bearer.time.time
    monkeypatch.setattr(
        bearer.time, "time", lambda: real_time() + runtime.settings.access_token_ttl_seconds + 5
    )
    with pytest.raises(InvalidToken):
        authenticator.verify(token)


def test_a_cached_token_is_checked_again_after_the_keys_change(http: TestClient, runtime: Runtime) -> None:
    authenticator = BearerAuthenticator(runtime)
    token = make_supplier(runtime).token(http)
    first = authenticator.verify(token)
    runtime.keys.rotate_signing_key()
    again = authenticator.verify(token)
    assert again is not first and again.jti == first.jti  # re-verified against the new key set, still valid


def test_the_cache_is_bounded(http: TestClient, runtime: Runtime) -> None:
    authenticator = BearerAuthenticator(runtime, cache_size=3)
    client = make_supplier(runtime)
    for _ in range(5):
        authenticator.verify(client.token(http))
    assert len(authenticator._verified) == 3
