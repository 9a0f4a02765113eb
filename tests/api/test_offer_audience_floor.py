"""Sending an offer needs a noisy audience of at least k (`audience_min_cohort`): an offer to a customer or
a handful is refused, delivers nothing, commits no budget, and still costs the epsilon of its count (were a
refusal free, sending and being refused would be a free count of any small audience)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.app import create_app
from infomediary.offers.models import OfferRow
from infomediary.policylog import kinds
from infomediary.policylog.models import PolicyLogEntry
from infomediary.runtime import Runtime
from tests.conftest import ISSUER
from tests.fixtures.audiences import audience_runtime
from tests.fixtures.offers import body, profiled, received_offers, send, sent, supplier

K = 5
# Epsilon large enough that the noisy audience is the true one: the tests are about the floor, not noise.
FLOOR = {
    "audience_min_cohort": K,
    "offer_min_cohort": K,
    "offer_epsilon": 60.0,
    "audience_epsilon_budget": 1000.0,
    "audience_budget_period_seconds": 10**9,
}


def _client(runtime: Runtime, **settings: Any) -> Iterator[TestClient]:
    with (
        audience_runtime(runtime, **{**FLOOR, **settings}) as rt,
        TestClient(create_app(runtime=rt), base_url=ISSUER) as c,
    ):
        yield c


def _epsilon_left(http: TestClient, headers: dict[str, str]) -> float:
    return float(http.get("/v1/supplier", headers=headers).json()["epsilon_remaining"])


def _balance(http: TestClient, headers: dict[str, str]) -> int:
    return int(http.get("/v1/supplier/ledger", headers=headers).json()["balance"])


def test_an_offer_to_an_audience_below_k_is_refused_delivers_nothing_and_costs_its_epsilon(
    runtime: Runtime,
) -> None:
    for http in _client(runtime):
        few = profiled(http, K - 1)
        shop = supplier(http, runtime)
        headers = shop.headers(http)
        left, balance = _epsilon_left(http, headers), _balance(http, headers)
        refused = send(http, shop)
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        problem = refused.json()
        assert problem["type"].endswith("/offer-audience-too-small") and problem["minimum_cohort"] == K
        # Nothing was sent: no offer, no inbox entry, no budget held.
        assert all(received_offers(http, customer) == [] for customer in few)
        assert http.get("/v1/offers", headers=headers).json()["offers"] == []
        assert _balance(http, headers) == balance
        with runtime.read_session_factory() as session:
            assert session.scalar(select(func.count()).where(OfferRow.supplier_id == shop.owner_id)) == 0
            # The refusal is logged as the release it was: a count told as below k, with its epsilon.
            logged = session.scalars(
                select(PolicyLogEntry.release_count).where(
                    PolicyLogEntry.kind == kinds.RELEASE,
                    PolicyLogEntry.supplier_id == shop.owner_id,
                    PolicyLogEntry.epsilon_milli == 60_000,
                )
            ).all()
        assert logged == [0]
        # But its count was made and told (below k), so it is charged: trying again is not free either.
        assert _epsilon_left(http, headers) == left - 60.0
        assert send(http, shop).status_code == 422
        assert _epsilon_left(http, headers) == left - 120.0
        # And each customer counted pays on her own account for the draws the refusals told of.
        for customer in few:
            account = http.get("/v1/me/privacy-loss", headers=customer.headers).json()
            assert account["epsilon_spent"] == 120.0
            assert [s["supplier_id"] for s in account["by_supplier"]] == [shop.owner_id]


def test_an_offer_to_an_audience_of_k_is_sent(runtime: Runtime) -> None:
    for http in _client(runtime):
        customers = profiled(http, K)
        shop = supplier(http, runtime)
        offer = sent(http, shop, body())
        assert offer["stats"]["delivered"] == K
        assert all([o["id"] for o in received_offers(http, c)] == [offer["id"]] for c in customers)


def test_late_matches_only_join_an_offer_that_passed_the_floor(runtime: Runtime) -> None:
    """An attacker cannot open an offer on nobody and let it gather customers one by one as they arrive."""
    for http in _client(runtime):
        shop = supplier(http, runtime)
        assert send(http, shop).status_code == 422
        [late] = profiled(http, 1)
        assert received_offers(http, late) == []
