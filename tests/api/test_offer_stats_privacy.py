"""Offer statistics as a supplier would attack them: an offer's audience is a count query (charged to the
epsilon budget, checked for differencing), its figures are noisy and redrawn on a fixed schedule (re-reading
cannot average the noise away, and neither a draw's timing nor its charge follows what customers did), and a
spent budget refuses new offers (429) and freezes the figures instead of re-drawing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from infomediary.audiences.service import DIFFERENCING_STRIKE_REASON
from infomediary.offers import stats
from infomediary.runtime import Runtime
from infomediary.sanctions.models import SupplierSanction
from tests.conftest import ISSUER
from tests.fixtures.audiences import audience_runtime
from tests.fixtures.offers import (
    BODY,
    body,
    offer_reads_later,
    profiled,
    received_offers,
    send,
    sent,
    supplier,
)

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
        offer_epsilon=100.0,
        audience_epsilon_budget=100_000.0,
        audience_differencing_window=32,
    ):
        profiled(http, 4)
        [target] = profiled(http, 1, birth_date="1950-01-01")
        shop = supplier(http, runtime)
        headers = shop.headers(http)
        without = {"and": [FEMALE, {"not": {"eq": ["age_band", "65+"]}}]}
        sent(http, shop, body(predicate=FEMALE))
        balance = http.get("/v1/supplier/ledger", headers=headers).json()["balance"]
        left = _epsilon_left(http, headers)
        refused = send(http, shop, body(predicate=without))
        assert refused.status_code == 403 and refused.json()["type"].endswith("differencing-refused")
        # Refused before anything of the offer was kept: nothing spent, paid or delivered.
        assert _epsilon_left(http, headers) == left
        assert http.get("/v1/supplier/ledger", headers=headers).json()["balance"] == balance
        assert len(received_offers(http, target)) == 1
        with runtime.read_session_factory() as session:
            reasons = session.scalars(
                select(SupplierSanction.reason).where(SupplierSanction.supplier_id == shop.owner_id)
            ).all()
        assert reasons == [DIFFERENCING_STRIKE_REASON]
        # An offer to the same customers, spelled differently, differs by nobody: it is sent.
        sent(http, shop, body(predicate={"eq": ["postal_prefix", "75"]}))
        assert len(received_offers(http, target)) == 2


# Reads of offers are moved forward in time (`offer_reads_later`); one budget period spans the whole test.
SCHEDULED = {
    "offer_min_cohort": 1,
    "audience_min_cohort": 0,
    "audience_epsilon_budget": 100.0,
    "audience_budget_period_seconds": 10**9,
    "offer_stats_interval_seconds": 600,
}


def test_stats_are_redrawn_on_schedule_and_each_draw_is_charged(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    for http in _client(runtime, **SCHEDULED):
        customers = profiled(http, 3)
        shop = supplier(http, runtime)
        headers = shop.headers(http)
        offer = sent(http, shop)
        left = _epsilon_left(http, headers)
        # Averaging: many reads within the interval give one answer, and cost nothing, even after a view.
        answers = [_stats(http, headers, offer["id"]) for _ in range(10)]
        assert http.post(f"/v1/me/offers/{offer['id']}/view", headers=customers[0].headers).status_code == 200
        answers += [_stats(http, headers, offer["id"]) for _ in range(10)]
        assert all(a == answers[0] for a in answers)
        assert _epsilon_left(http, headers) == left
        # Once the interval has passed the next read draws afresh, charged once, then is stable again.
        offer_reads_later(monkeypatch, 601)
        redrawn = [_stats(http, headers, offer["id"]) for _ in range(5)]
        assert all(r == redrawn[0] for r in redrawn)
        assert _epsilon_left(http, headers) == left - 0.5
        # Figures that did not change are drawn (and charged) all the same when the next draw is due.
        offer_reads_later(monkeypatch, 1202)
        _stats(http, headers, offer["id"])
        assert _epsilon_left(http, headers) == left - 1.0


def _charges(http: TestClient, headers: dict[str, str], offer_id: str, reads: int) -> list[float]:
    """The epsilon each of `reads` reads of the offer cost, in order."""
    charges = []
    for _ in range(reads):
        before = _epsilon_left(http, headers)
        _stats(http, headers, offer_id)
        charges.append(round(before - _epsilon_left(http, headers), 6))
    return charges


def test_the_charge_of_a_read_does_not_tell_whether_the_one_customer_reached_viewed(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The attack from issue 17: an offer reaches one customer; its supplier reads the statistics before and
    after the customer might have viewed it, and looks at what each read cost. Two suppliers play it against
    the same customer, who views one offer and not the other: both see the same charges."""
    for http in _client(runtime, **SCHEDULED):
        [target] = profiled(http, 1, birth_date="1985-01-01")
        only = {"and": [FEMALE, {"eq": ["age_band", "35-44"]}]}
        viewed_shop, ignored_shop = supplier(http, runtime), supplier(http, runtime)
        viewed, ignored = (
            sent(http, viewed_shop, body(predicate=only)),
            sent(http, ignored_shop, body(predicate=only)),
        )
        assert {o["id"] for o in received_offers(http, target)} == {viewed["id"], ignored["id"]}
        seen: dict[str, list[float]] = {}
        for shop, offer in ((viewed_shop, viewed), (ignored_shop, ignored)):
            seen[offer["id"]] = _charges(http, shop.headers(http), offer["id"], 2)
        assert http.post(f"/v1/me/offers/{viewed['id']}/view", headers=target.headers).status_code == 200
        for shop, offer in ((viewed_shop, viewed), (ignored_shop, ignored)):
            seen[offer["id"]] += _charges(http, shop.headers(http), offer["id"], 2)
        offer_reads_later(monkeypatch, 601)
        for shop, offer in ((viewed_shop, viewed), (ignored_shop, ignored)):
            seen[offer["id"]] += _charges(http, shop.headers(http), offer["id"], 2)
        assert seen[viewed["id"]] == seen[ignored["id"]] == [0, 0, 0, 0, 0.5, 0]


def test_a_closed_offers_figures_are_final_after_one_draw(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    for http in _client(runtime, **SCHEDULED):
        profiled(http, 2)
        shop = supplier(http, runtime)
        headers = shop.headers(http)
        offer = sent(http, shop)
        assert http.post(f"/v1/offers/{offer['id']}/withdraw", headers=headers).status_code == 200
        left = _epsilon_left(http, headers)
        offer_reads_later(monkeypatch, 601)
        _stats(http, headers, offer["id"])  # the draw due after closing
        offer_reads_later(monkeypatch, 1202)
        _stats(http, headers, offer["id"])  # nothing can change any more: no further draw
        assert _epsilon_left(http, headers) == left - 0.5


def test_offer_figures_are_noised_with_opendp() -> None:
    """Under the default epsilon, thirty draws of the same figures are not all the same (p < 1e-20)."""
    draws = {stats.draw((100, 40, 10), 500) for _ in range(30)}
    assert len(draws) > 1
    assert all(min(d) >= 0 for d in draws)


def test_k_applies_to_the_noisy_figure(runtime: Runtime) -> None:
    for http in _client(
        runtime, offer_epsilon=100.0, audience_epsilon_budget=100_000.0, audience_min_cohort=0
    ):
        k = runtime.settings.offer_min_cohort
        profiled(http, k - 1)
        shop = supplier(http, runtime)
        offer = sent(http, shop, body(budget_cap=BODY["budget_cap"]))
        assert offer["stats"] == {"delivered": None, "viewed": None, "accepted": None, "minimum_cohort": k}
