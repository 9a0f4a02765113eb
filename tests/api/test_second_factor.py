"""Two-step sign-in with an authenticator app (TOTP, RFC 6238): set up with the password and a first code,
then a log-in in two steps; a code is good once; recovery codes are single use; switching it off needs the
password and a code; and every re-authentication (erasure, identity release) asks for a code too.

The service's clock is the test's (`clock`), so that codes of successive time steps can be made at will.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from infomediary.customers import service as customers_service
from infomediary.customers.models import RecoveryCode, SecondFactor
from infomediary.runtime import Runtime
from tests.fixtures.actors import PASSWORD, Consumer, erase, make_consumer


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))

    def step(self, steps: int = 1) -> None:
        """Move on by whole TOTP time steps (30 s)."""
        self.now += timedelta(seconds=30 * steps)

    def code(self, secret: str, steps: int = 0) -> str:
        return str(pyotp.TOTP(secret).at(self.now + timedelta(seconds=30 * steps)))


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(customers_service, "utcnow", lambda: clock.now)
    return clock


@dataclass
class TwoStep:
    consumer: Consumer
    secret: str
    recovery_codes: list[str]


def _enrol(http: TestClient, clock: Clock, consumer: Consumer) -> TwoStep:
    started = http.post("/v1/me/second-factor", json={"password": PASSWORD}, headers=consumer.headers)
    assert started.status_code == 201, started.text
    secret = started.json()["secret"]
    assert started.json()["otpauth_uri"].startswith("otpauth://totp/")
    assert f"secret={secret}" in started.json()["otpauth_uri"]
    confirmed = http.post(
        "/v1/me/second-factor/confirm", json={"code": clock.code(secret)}, headers=consumer.headers
    )
    assert confirmed.status_code == 200, confirmed.text
    codes = confirmed.json()["recovery_codes"]
    clock.step()
    return TwoStep(consumer, secret, codes)


@pytest.fixture
def enrolled(http: TestClient, clock: Clock) -> TwoStep:
    return _enrol(http, clock, make_consumer(http))


def _password_step(http: TestClient, consumer: Consumer, password: str = PASSWORD) -> str:
    response = http.post("/v1/session", json={"email": consumer.email, "password": password})
    assert response.status_code == 202, response.text
    assert "set-cookie" not in response.headers and "access_token" not in response.json()
    return str(response.json()["challenge"])


def _code_step(http: TestClient, challenge: str, code: str) -> httpx.Response:
    return http.post("/v1/session/second-factor", json={"challenge": challenge, "code": code})


def test_setting_up_needs_the_password_and_a_first_code(http: TestClient, clock: Clock) -> None:
    consumer = make_consumer(http)
    refused = http.post(
        "/v1/me/second-factor", json={"password": "not mine at all"}, headers=consumer.headers
    )
    assert refused.status_code == 403
    started = http.post("/v1/me/second-factor", json={"password": PASSWORD}, headers=consumer.headers)
    secret = started.json()["secret"]
    wrong = http.post("/v1/me/second-factor/confirm", json={"code": "000000"}, headers=consumer.headers)
    if clock.code(secret) == "000000":  # one chance in a million
        pytest.skip("the current code happens to be 000000")
    assert wrong.status_code == 400 and wrong.json()["type"].endswith("code-incorrect")
    status = http.get("/v1/me/second-factor", headers=consumer.headers).json()
    assert status == {"enabled": False, "since": None, "recovery_codes_left": 0}
    # Until it is confirmed, the password alone still signs in.
    assert http.post("/v1/session", json={"email": consumer.email, "password": PASSWORD}).status_code == 200

    two = _enrol(http, clock, consumer)
    status = http.get("/v1/me/second-factor", headers=consumer.headers).json()
    assert status["enabled"] is True and status["recovery_codes_left"] == 10
    assert len(set(two.recovery_codes)) == 10
    again = http.post("/v1/me/second-factor", json={"password": PASSWORD}, headers=consumer.headers)
    assert again.status_code == 409


def test_logging_in_takes_the_password_then_a_code(http: TestClient, clock: Clock, enrolled: TwoStep) -> None:
    challenge = _password_step(http, enrolled.consumer)
    wrong = _code_step(http, challenge, "12345x")
    assert wrong.status_code == 401 and wrong.json()["type"].endswith("second-factor-failed")
    done = _code_step(http, challenge, clock.code(enrolled.secret))
    assert done.status_code == 200
    token = done.json()["access_token"]
    assert "infomediary_session=" in done.headers["set-cookie"]
    assert http.get("/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    # The challenge is used up.
    clock.step()
    reused = _code_step(http, challenge, clock.code(enrolled.secret))
    assert reused.status_code == 401 and reused.json()["type"].endswith("login-challenge-invalid")


def test_a_code_is_accepted_once_and_no_older_one_after_it(
    http: TestClient, clock: Clock, enrolled: TwoStep
) -> None:
    code = clock.code(enrolled.secret)
    assert _code_step(http, _password_step(http, enrolled.consumer), code).status_code == 200
    replayed = _code_step(http, _password_step(http, enrolled.consumer), code)
    assert replayed.status_code == 401
    older = clock.code(enrolled.secret, steps=-1)  # still within the drift allowed, but before the last
    assert _code_step(http, _password_step(http, enrolled.consumer), older).status_code == 401
    clock.step()
    fresh = clock.code(enrolled.secret)
    assert _code_step(http, _password_step(http, enrolled.consumer), fresh).status_code == 200


def test_a_challenge_expires(http: TestClient, clock: Clock, enrolled: TwoStep, runtime: Runtime) -> None:
    challenge = _password_step(http, enrolled.consumer)
    clock.now += timedelta(seconds=runtime.settings.login_challenge_ttl_seconds + 1)
    late = _code_step(http, challenge, clock.code(enrolled.secret))
    assert late.status_code == 401 and late.json()["type"].endswith("login-challenge-invalid")


def test_a_recovery_code_signs_in_once(http: TestClient, clock: Clock, enrolled: TwoStep) -> None:
    code = enrolled.recovery_codes[3]
    typed = code.upper().replace("-", " ")  # as someone types it from paper
    assert _code_step(http, _password_step(http, enrolled.consumer), typed).status_code == 200
    assert _code_step(http, _password_step(http, enrolled.consumer), code).status_code == 401
    left = http.get("/v1/me/second-factor", headers=enrolled.consumer.headers).json()["recovery_codes_left"]
    assert left == 9


def test_wrong_codes_count_against_the_login_throttle(
    http: TestClient, clock: Clock, enrolled: TwoStep, runtime: Runtime
) -> None:
    """The right password must not wipe the count of wrong codes: guessing codes stops at the same limit as
    guessing passwords, however many fresh challenges the guesser asks for."""
    for _ in range(runtime.settings.login_max_failures_per_account):
        assert _code_step(http, _password_step(http, enrolled.consumer), "000000").status_code == 401
    throttled = http.post("/v1/session", json={"email": enrolled.consumer.email, "password": PASSWORD})
    assert throttled.status_code == 429


def test_switching_off_needs_the_password_and_a_code(
    http: TestClient, clock: Clock, enrolled: TwoStep
) -> None:
    headers = enrolled.consumer.headers
    assert (
        http.request(
            "DELETE", "/v1/me/second-factor", json={"password": PASSWORD}, headers=headers
        ).status_code
        == 403
    )
    body = {"password": PASSWORD, "code": clock.code(enrolled.secret)}
    assert http.request("DELETE", "/v1/me/second-factor", json=body, headers=headers).status_code == 204
    assert http.get("/v1/me/second-factor", headers=headers).json()["enabled"] is False
    login = http.post("/v1/session", json={"email": enrolled.consumer.email, "password": PASSWORD})
    assert login.status_code == 200


def test_re_authentication_asks_for_a_code_too(
    http: TestClient, clock: Clock, enrolled: TwoStep, runtime: Runtime
) -> None:
    consumer = enrolled.consumer
    # The password alone, or the password with a wrong code: one answer, so the session's holder cannot tell
    # which was wrong.
    alone = erase(http, consumer.headers)
    wrong_code = http.request(
        "DELETE", "/v1/me", json={"password": PASSWORD, "code": "000000"}, headers=consumer.headers
    )
    wrong_password = http.request(
        "DELETE",
        "/v1/me",
        json={"password": "not my password", "code": clock.code(enrolled.secret)},
        headers=consumer.headers,
    )
    assert alone.status_code == wrong_code.status_code == wrong_password.status_code == 403
    assert alone.json()["title"] == wrong_code.json()["title"] == wrong_password.json()["title"]
    assert http.get("/v1/me", headers=consumer.headers).status_code == 200
    clock.step()
    done = http.request(
        "DELETE",
        "/v1/me",
        json={"password": PASSWORD, "code": clock.code(enrolled.secret)},
        headers=consumer.headers,
    )
    assert done.status_code == 200, done.text
    with runtime.session_factory() as session:  # the authenticator and its codes went with the account
        assert session.get(SecondFactor, consumer.id) is None
        left = select(RecoveryCode).where(RecoveryCode.customer_id == consumer.id)
        assert session.scalars(left).all() == []


def test_a_changed_password_ends_pending_sign_ins(http: TestClient, clock: Clock, enrolled: TwoStep) -> None:
    challenge = _password_step(http, enrolled.consumer)
    changed = http.post(
        "/v1/me/password",
        json={
            "current_password": PASSWORD,
            "new_password": "a different passphrase",
            "code": clock.code(enrolled.secret),
        },
        headers=enrolled.consumer.headers,
    )
    assert changed.status_code == 204, changed.text
    clock.step()
    assert _code_step(http, challenge, clock.code(enrolled.secret)).status_code == 401


def test_the_secret_and_the_codes_are_not_kept_readable(
    http: TestClient, clock: Clock, enrolled: TwoStep, runtime: Runtime
) -> None:
    with runtime.session_factory() as session:
        factor = session.get(SecondFactor, enrolled.consumer.id)
        assert factor is not None and enrolled.secret.encode() not in factor.secret_sealed
        tags = session.scalars(
            select(RecoveryCode.code_tag).where(RecoveryCode.customer_id == enrolled.consumer.id)
        ).all()
    assert len(tags) == 10
    for code in enrolled.recovery_codes:
        assert all(code.encode() not in tag and code.replace("-", "").encode() not in tag for tag in tags)
