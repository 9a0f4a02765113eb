"""Offer statistics as a supplier would attack them: an offer's audience is a count query (charged to the
epsilon budget, checked for differencing), its figures are noisy and stable (re-reading cannot average the
noise away), and a spent budget refuses new offers (429) and freezes the figures instead of re-drawing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from infomediary.audiences.service import DIFFERENCING_STRIKE_REASON
from infomediary.offers import stats
from infomediary.runtime import Runtime
from infomediary.sanctions.models import SupplierSanction
from tests.conftest import ISSUER
from tests.fixtures.audiences import audience_runtime
from tests.fixtures.offers import BODY, body, profiled, received_offers, send, sent, supplier

FEMALE = {"eq": ["gender", "female"]}


def _client(runtime: Runtime, **settings: Any) -> Iterator[TestClient]:
    with (
        audience_runtime(runtime, **settings) as rt,
        TestClient(create_app(runtime=rt), base_url=ISSUER) as c,
    ):
        yield c


def _stats(http: TestClient, headers: dict[str, str], offer_id: str) -> dict[str, Any]:
    read = http.get(f"/v1/offers/{offer_id}", headers=headers)
    assert read.status_code == 200, read.text
    return dict(read.json()["stats"])


def _epsilon_left(http: TestClient, headers: dict[str, str]) -> float:
    return float(http.get("/v1/supplier", headers=headers).json()["epsilon_remaining"])


def test_differencing_two_offers_is_refused_struck_and_free(runtime: Runtime) -> None:
    """The attacker sends offers with and without the target (the one 65+ customer) and subtracts."""
    for http in _client(
        runtime,
        offer_min_cohort=1,
        audience_min_cohort=2,
        audience_epsilon_budget=1.5,
        audience_differencing_window=32,
    ):
        profiled(http, 4)
        [target] = profiled(http, 1, birth_date="1950-01-01")
        shop = supplier(http, runtime)
        headers = shop.headers(http)
        without = {"and": [FEMALE, {"not": {"eq": ["age_band", "65+"]}}]}
        first = sent(http, shop, body(predicate=FEMALE))
        balance = http.get("/v1/supplier/ledger", headers=headers).json()["balance"]
        refused = send(http, shop, body(predicate=without))
        assert refused.status_code == 403 and refused.json()["type"].endswith("differencing-refused")
        # Refused before anything of the offer was written: nothing spent, paid or delivered.
        assert _epsilon_left(http, headers) == 1.0
        assert http.get("/v1/supplier/ledger", headers=headers).json()["balance"] == balance
        assert len(received_offers(http, target)) == 1
        with runtime.read_session_factory() as session:
            reasons = session.scalars(
                select(SupplierSanction.reason).where(SupplierSanction.supplier_id == shop.owner_id)
            ).all()
        assert reasons == [DIFFERENCING_STRIKE_REASON]
        # Offers far enough apart are sent until the budget is spent; then refused with when to retry.
        sent(http, shop, body(predicate={"eq": ["postal_prefix", "75"]}))
        sent(http, shop, body(predicate=FEMALE))
        assert _epsilon_left(http, headers) == 0.0
        balance = http.get("/v1/supplier/ledger", headers=headers).json()["balance"]
        spent = send(http, shop, body(predicate=FEMALE))
        assert spent.status_code == 429 and int(spent.headers["Retry-After"]) > 0
        assert spent.headers["content-type"].startswith("application/problem+json")
        assert http.get("/v1/supplier/ledger", headers=headers).json()["balance"] == balance
        # Spent budget also freezes stats: the first offer's figures are served as released, not re-drawn.
        frozen = _stats(http, headers, first["id"])
        for consumer in profiled(http, 2):
            received_offers(http, consumer)  # late matching changes the true delivered count
        assert _stats(http, headers, first["id"]) == frozen


def test_stats_are_stable_between_changes_and_each_redraw_is_charged(runtime: Runtime) -> None:
    for http in _client(runtime, offer_min_cohort=1, audience_epsilon_budget=100.0):
        customers = profiled(http, 3)
        shop = supplier(http, runtime)
        headers = shop.headers(http)
        offer = sent(http, shop)
        left = _epsilon_left(http, headers)
        # Averaging: a hundred reads give one answer, and cost nothing.
        answers = [_stats(http, headers, offer["id"]) for _ in range(30)]
        assert all(a == answers[0] for a in answers)
        assert _epsilon_left(http, headers) == left
        # A change in the true figures draws once more, charged once, then is stable again.
        assert http.post(f"/v1/me/offers/{offer['id']}/view", headers=customers[0].headers).status_code == 200
        redrawn = [_stats(http, headers, offer["id"]) for _ in range(5)]
        assert all(r == redrawn[0] for r in redrawn)
        assert _epsilon_left(http, headers) == left - 0.5


def test_offer_figures_are_noised_with_opendp() -> None:
    """Under the default epsilon, thirty draws of the same figures are not all the same (p < 1e-20)."""
    draws = {stats.draw((100, 40, 10), 500) for _ in range(30)}
    assert len(draws) > 1
    assert all(min(d) >= 0 for d in draws)


def test_k_applies_to_the_noisy_figure(runtime: Runtime) -> None:
    for http in _client(runtime, offer_epsilon=100.0, audience_epsilon_budget=100_000.0):
        k = runtime.settings.offer_min_cohort
        profiled(http, k - 1)
        shop = supplier(http, runtime)
        offer = sent(http, shop, body(budget_cap=BODY["budget_cap"]))
        assert offer["stats"] == {"delivered": None, "viewed": None, "accepted": None, "minimum_cohort": k}
