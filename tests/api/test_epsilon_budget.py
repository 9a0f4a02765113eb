"""The epsilon budget through HTTP: every answer that may spend it says what is left and when it resets,
a spent budget is 429 with Retry-After and those headers, and reaching the limit is never sanctioned."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient

from api.app import create_app
from infomediary.runtime import Runtime
from tests.fixtures.actors import Client, make_supplier
from tests.fixtures.audiences import audience_runtime
from tests.fixtures.consents import publish
from tests.fixtures.offers import body as offer_body

CATEGORIES = ["demographics", "contact", "interests", "identity"]
PREDICATES = [{"eq": ["gender", g]} for g in ("female", "male", "other")]


def _count(http: TestClient, supplier: Client, predicate: Any) -> Any:
    body = {"purpose": "marketing", "predicate": predicate}
    return http.post("/v1/audiences/count", json=body, headers=supplier.headers(http))


def _client(runtime: Runtime, **settings: Any) -> TestClient:
    with audience_runtime(runtime, **settings) as rt:
        return TestClient(create_app(runtime=rt), base_url="http://127.0.0.1:8000")


def test_a_spent_budget_is_429_with_its_headers_and_no_sanction(runtime: Runtime) -> None:
    http = _client(runtime, audience_epsilon=0.5, audience_epsilon_budget=1.0)
    supplier = make_supplier(runtime)
    publish(http, supplier, ["marketing"], CATEGORIES)
    before = http.get("/v1/supplier", headers=supplier.headers(http)).json()
    first, second = (_count(http, supplier, p) for p in PREDICATES[:2])
    assert first.status_code == second.status_code == 200
    assert first.headers["Epsilon-Remaining"] == "0.500" and second.headers["Epsilon-Remaining"] == "0.000"
    resets_at = first.headers["Epsilon-Resets-At"]
    assert resets_at.endswith("Z") and datetime.fromisoformat(resets_at) == datetime.fromisoformat(
        first.json()["budget_resets_at"].replace("Z", "+00:00")
    )

    refused = _count(http, supplier, PREDICATES[2])

    assert refused.status_code == 429
    assert refused.json()["type"].endswith("/epsilon-budget-exhausted")
    assert int(refused.headers["Retry-After"]) > 0
    assert refused.headers["Epsilon-Remaining"] == "0.000"
    assert refused.headers["Epsilon-Resets-At"] == resets_at
    # A repeat spends nothing, so it is still answered, with the same headers.
    again = _count(http, supplier, PREDICATES[0])
    assert again.status_code == 200 and again.json()["cached"] is True
    assert again.headers["Epsilon-Remaining"] == "0.000"
    after = http.get("/v1/supplier", headers=supplier.headers(http)).json()
    assert (after["status"], after["strikes"]) == (before["status"], before["strikes"]) == ("active", 0)
    http.close()


def test_the_header_decreases_on_every_fresh_answer_that_spends(runtime: Runtime) -> None:
    # No minimum cohort: with no customers, the offer below goes out (not refused by the audience floor)
    # and the top items are drawn (the audience count is not suppressed), so every answer spends.
    http = _client(
        runtime, audience_epsilon=0.2, audience_epsilon_budget=5.0, offer_epsilon=0.5, audience_min_cohort=0
    )
    supplier = make_supplier(runtime)
    publish(http, supplier, ["marketing", "personalisation"], CATEGORIES)
    seen = [float(_count(http, supplier, p).headers["Epsilon-Remaining"]) for p in PREDICATES]
    assert seen == [4.8, 4.6, 4.4]
    items = http.post(
        "/v1/recommendations/audience",
        json={"predicate": {"eq": ["age_band", "25-34"]}, "n": 3},
        headers=supplier.headers(http),
    )
    # The audience's count (0.2) and the selection (recommend_audience_epsilon, 1.0).
    assert items.status_code == 200 and items.headers["Epsilon-Remaining"] == "3.200"
    headers = {**supplier.headers(http), "Idempotency-Key": secrets.token_hex(8)}
    sent = http.post("/v1/offers", json=offer_body(), headers=headers)
    assert sent.status_code == 201, sent.text
    left = float(sent.headers["Epsilon-Remaining"])
    assert left <= 3.2 - 0.5
    read = http.get(f"/v1/offers/{sent.json()['id']}", headers=supplier.headers(http))
    assert float(read.headers["Epsilon-Remaining"]) <= left
    assert read.headers["Epsilon-Resets-At"] == sent.headers["Epsilon-Resets-At"]
    http.close()


def test_the_openapi_declares_the_headers_on_the_routes_that_spend(http: TestClient) -> None:
    paths = http.get("/openapi.json").json()["paths"]
    for path, method, ok, refuses in (
        ("/v1/audiences/count", "post", "200", True),
        ("/v1/recommendations/audience", "post", "200", True),
        ("/v1/offers", "post", "201", True),
        ("/v1/offers/{offer_id}", "get", "200", False),
        ("/v1/offers/{offer_id}/withdraw", "post", "200", False),
    ):
        responses = paths[path][method]["responses"]
        assert {"Epsilon-Remaining", "Epsilon-Resets-At"} <= set(responses[ok]["headers"]), path
        if refuses:
            assert {"Epsilon-Remaining", "Epsilon-Resets-At", "Retry-After"} <= set(
                responses["429"]["headers"]
            ), path
