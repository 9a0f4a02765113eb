"""The consumer sees and corrects their profile: every profile field with category and sensitivity, typed
validation that changes nothing on error, a history of every change, and the login email kept in step
(a new one only once its mailed link is followed)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from infomediary.profiles.fields import FIELDS
from tests.fixtures.actors import PASSWORD, Consumer, make_consumer


def _fields(http: TestClient, consumer: Consumer) -> dict[str, dict[str, Any]]:
    response = http.get("/v1/me/profile", headers=consumer.headers)
    assert response.status_code == 200, response.text
    return {f["key"]: f for f in response.json()["fields"]}


def test_profile_lists_every_field_with_category_and_sensitivity(http: TestClient) -> None:
    consumer = make_consumer(http, email="Ada@Example.org")
    fields = _fields(http, consumer)
    assert set(fields) == set(FIELDS)
    assert fields["email"]["value"] == "Ada@example.org" and fields["email"]["source"] == "registration"
    assert fields["given_name"]["value"] is None
    assert fields["health_conditions"]["category"] == "health"
    assert fields["health_conditions"]["sensitivity"] == "sensitive"
    assert fields["postal_code"] == {
        **fields["postal_code"],
        "category": "contact",
        "sensitivity": "ordinary",
    }


def test_patch_sets_and_clears_fields_and_history_shows_each_change(http: TestClient) -> None:
    consumer = make_consumer(http)
    patched = http.patch(
        "/v1/me/profile",
        headers=consumer.headers,
        json={"given_name": "Ada", "birth_date": "1815-12-10", "interests": ["maths", "poetry"]},
    )
    assert patched.status_code == 422  # before 1900
    assert patched.json()["errors"][0]["pointer"] == "/body/birth_date"
    ok = http.patch(
        "/v1/me/profile",
        headers=consumer.headers,
        json={"given_name": "Ada", "birth_date": "1985-12-10", "interests": ["maths", "poetry"]},
    )
    assert ok.status_code == 200, ok.text
    fields = {f["key"]: f for f in ok.json()["fields"]}
    assert fields["given_name"]["value"] == "Ada" and fields["given_name"]["source"] == "customer"
    assert fields["birth_date"]["value"] == "1985-12-10"
    cleared = http.patch("/v1/me/profile", headers=consumer.headers, json={"given_name": None})
    assert {f["key"]: f for f in cleared.json()["fields"]}["given_name"]["value"] is None

    history = http.get("/v1/me/profile/history", headers=consumer.headers).json()
    changes = [(c["field"], c["old"], c["new"], c["actor"]) for c in history["items"]]
    assert changes == [
        ("email", None, consumer.email, "registration"),
        ("given_name", None, "Ada", "customer"),
        ("birth_date", None, "1985-12-10", "customer"),
        ("interests", None, ["maths", "poetry"], "customer"),
        ("given_name", "Ada", None, "customer"),
    ]
    page = http.get("/v1/me/profile/history?limit=2", headers=consumer.headers).json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = http.get(f"/v1/me/profile/history?cursor={page['next_cursor']}", headers=consumer.headers).json()
    assert [c["id"] for c in page["items"] + rest["items"]] == [c["id"] for c in history["items"]]


def test_invalid_or_unknown_fields_are_problems_and_change_nothing(http: TestClient) -> None:
    consumer = make_consumer(http)
    http.patch("/v1/me/profile", headers=consumer.headers, json={"given_name": "Grace"})
    before = _fields(http, consumer)
    history_before = http.get("/v1/me/profile/history", headers=consumer.headers).json()
    for body, pointer in [
        ({"given_name": "Hopper", "shoe_size": 42}, "/body/shoe_size"),
        ({"given_name": "Hopper", "gender": "robot"}, "/body/gender"),
        ({"given_name": "Hopper", "household_size": 0}, "/body/household_size"),
        ({"given_name": "x" * 101}, "/body/given_name"),
        ({"given_name": "Hopper", "email": "not-an-email"}, "/body/email"),
        (
            {"given_name": "Hopper", "home_location": {"latitude": 91, "longitude": 0}},
            "/body/home_location/latitude",
        ),
    ]:
        response = http.patch("/v1/me/profile", headers=consumer.headers, json=body)
        assert response.status_code == 422, body
        assert response.headers["content-type"] == "application/problem+json"
        assert pointer in [e["pointer"] for e in response.json()["errors"]], response.json()
    assert _fields(http, consumer) == before
    assert http.get("/v1/me/profile/history", headers=consumer.headers).json() == history_before


def test_the_email_cannot_be_cleared_and_a_new_one_waits_for_its_link(http: TestClient) -> None:
    """The whole change of address, taken or free, is in test_email_change.py."""
    consumer = make_consumer(http, email="old@example.org")
    cleared = http.patch("/v1/me/profile", headers=consumer.headers, json={"email": None})
    assert cleared.status_code == 422
    assert "/body/email" in [e["pointer"] for e in cleared.json()["errors"]]
    moved = http.patch("/v1/me/profile", headers=consumer.headers, json={"email": "new@example.org"})
    assert moved.status_code == 200 and moved.json()["email_change"] is not None
    assert _fields(http, consumer)["email"]["value"] == "old@example.org"
    assert (
        http.post("/v1/session", json={"email": "old@example.org", "password": PASSWORD}).status_code == 200
    )


def test_profile_routes_need_a_session(http: TestClient) -> None:
    for method, path in [
        ("GET", "/v1/me/profile"),
        ("PATCH", "/v1/me/profile"),
        ("GET", "/v1/me/profile/history"),
        ("GET", "/v1/me/activity"),
        ("POST", "/v1/me/activity"),
        ("GET", "/v1/me/insights"),
        ("GET", "/v1/me/export"),
        ("GET", "/v1/me/restriction"),
        ("POST", "/v1/me/restriction"),
        ("DELETE", "/v1/me/restriction"),
        ("DELETE", "/v1/me"),
    ]:
        response = http.request(method, path, json={} if method in {"PATCH", "POST"} else None)
        assert response.status_code == 401, (method, path, response.text)
