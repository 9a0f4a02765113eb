"""Slices compose safely (issue 17): a supplier that joins everything it received, on every key it has,
never finds a class below k. The attacks are the issue's own: single-field slices joined on the pseudonym,
interests as an identifier, and random sequences of slices joined on pseudonyms and on shared columns."""

from __future__ import annotations

import json
import random
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from consent.vocabulary import Category, Purpose
from infomediary.audiences.dimensions import INTERESTS
from infomediary.customers.models import Customer
from infomediary.database import unit_of_work
from infomediary.flows import policy_published, profile_changed, supplier_registered
from infomediary.runtime import Runtime
from infomediary.slices import service
from infomediary.suppliers.models import Supplier
from tests.fixtures.actors import make_supplier
from tests.fixtures.consents import publish
from tests.fixtures.population import make_customers
from tests.slices.kanon import KEY, assert_k_anonymous

POPULATION = 400
ATTACKER = "Composition attacker"
# Every sliceable field a supplier may have without explicit grants (finances is sensitive).
FIELDS = [
    "birth_date",
    "postal_code",
    "gender",
    "country",
    "household_size",
    "income_band",
    "life_events",
    "interests",
    "preferred_channels",
    "language",
]
CATEGORIES = [
    Category.DEMOGRAPHICS,
    Category.CONTACT,
    Category.INTERESTS,
    Category.PREFERENCES,
    Category.LIFE_EVENTS,
]
ISSUE_FIELDS = ["birth_date", "postal_code", "gender", "household_size", "income_band"]


def _profile(rng: random.Random) -> dict[str, Any]:
    """Values spread so that each field alone has large classes and all of them together mostly do not."""
    return {
        "birth_date": date(rng.randint(1940, 2005), rng.randint(1, 12), rng.randint(1, 28)).isoformat(),
        "postal_code": f"{rng.choice(['75', '69', '13', '31', '33', '59'])}{rng.randint(0, 999):03d}",
        "gender": rng.choice(["female", "male", "non_binary"]),
        "country": rng.choice(["FR", "FR", "FR", "BE", "DE"]),
        "household_size": rng.randint(1, 6),
        "income_band": rng.choice(["under_20k", "20k_40k", "40k_60k", "60k_100k", "100k_150k"]),
        "life_events": [
            {
                "kind": rng.choice(["moved_home", "married", "new_child"]),
                "date": f"20{rng.randint(15, 25)}-0{rng.randint(1, 9)}-01",
            }
            for _ in range(rng.randint(0, 2))
        ],
        "interests": rng.sample(INTERESTS, rng.randint(1, 4)),
        "preferred_channels": rng.sample(["email", "sms", "post", "app", "phone"], rng.randint(1, 2)),
        "language": rng.choice(["fr", "fr", "en", "de", "pt-BR"]),
    }


def _population(runtime: Runtime, count: int = POPULATION) -> list[dict[str, Any]]:
    """`count` customers with varied profiles (reproducible), written through the profile service."""
    rng = random.Random(17)
    profiles = [_profile(rng) for _ in range(count)]
    ids = list(make_customers(runtime, count))
    with unit_of_work(runtime.session_factory) as session:
        for customer_id, profile in zip(ids, profiles, strict=True):
            profile_changed.apply_changes(session, runtime, customer_id, profile, actor="operator")
    return profiles


def _attacker(runtime: Runtime) -> str:
    with unit_of_work(runtime.session_factory) as session:
        view, _ = supplier_registered.register_supplier(session, name=ATTACKER, scopes=["slices:read"])
        policy_published.publish_policy(
            session, runtime, view.id, purposes=[Purpose.MARKETING], categories=CATEGORIES, policy_url=None
        )
    return view.id


def _take(runtime: Runtime, supplier_id: str, fields: Sequence[str]) -> list[dict[str, Any]]:
    with unit_of_work(runtime.session_factory) as session:
        return service.take_slice(session, runtime, supplier_id, Purpose.MARKETING, fields).rows


# --- the attacker's joins, written apart from the service ---------------------------------------------


def _values(row: Mapping[str, Any], columns: Sequence[str]) -> str:
    return json.dumps([row[c] for c in columns])


def joined_on_pseudonyms(releases: Sequence[Sequence[Mapping[str, Any]]]) -> list[dict[str, Any]]:
    """Every row the supplier can assemble by joining all its releases on the pseudonym."""
    people: dict[str, dict[str, Any]] = defaultdict(dict)
    for rows in releases:
        for row in rows:
            people[row[KEY]].update(row)
    return list(people.values())


def smallest_joined_class(a: Sequence[Mapping[str, Any]], b: Sequence[Mapping[str, Any]]) -> int | None:
    """Join two releases on every column they share: of the joined rows, the fewest people of either
    release that one joined row can stand for (None when nothing joins)."""
    shared = sorted((set(a[0]) & set(b[0])) - {KEY}) if a and b else []
    if not shared:
        return None
    a_columns, b_columns = sorted(set(a[0]) - {KEY}), sorted(set(b[0]) - {KEY})
    a_classes = Counter(_values(row, a_columns) for row in a)
    b_classes = Counter(_values(row, b_columns) for row in b)
    b_by_shared: dict[str, set[str]] = defaultdict(set)
    for row in b:
        b_by_shared[_values(row, shared)].add(_values(row, b_columns))
    # A joined row pairs a class of a with a class of b: it stands for that many people of each.
    sizes = [
        min(a_classes[_values(row, a_columns)], b_classes[b_class])
        for row in a
        for b_class in b_by_shared.get(_values(row, shared), ())
    ]
    return min(sizes, default=None)


# --- the attacks ----------------------------------------------------------------------------------


def test_the_issues_five_single_field_slices_join_nothing_on_the_pseudonym(
    http: TestClient, runtime: Runtime
) -> None:
    _population(runtime)
    supplier = make_supplier(runtime)
    publish(http, supplier, ["marketing"], ["demographics", "contact"])
    releases = []
    for field in ISSUE_FIELDS:
        response = http.post(
            "/v1/slices", json={"purpose": "marketing", "fields": [field]}, headers=supplier.headers(http)
        )
        assert response.status_code == 200, response.text
        rows = [json.loads(line) for line in response.text.splitlines() if line]
        assert_k_anonymous(rows, runtime.settings.slice_min_k)
        assert len(rows) >= POPULATION * 0.9  # each field alone is released nearly whole
        releases.append(rows)
    # With one stable pseudonym, 400 of 400 joined rows fell in classes below k; now no row joins at all.
    seen = Counter(row[KEY] for rows in releases for row in rows)
    assert max(seen.values()) == 1
    joined = joined_on_pseudonyms(releases)
    assert all(len(set(row) - {KEY}) == 1 for row in joined)
    assert_k_anonymous(joined, runtime.settings.slice_min_k)


def test_interests_are_generalised_until_no_interest_class_is_below_k(runtime: Runtime) -> None:
    profiles = _population(runtime)
    exact = Counter(tuple(sorted(p["interests"])) for p in profiles)
    assert sum(1 for n in exact.values() if n == 1) > POPULATION / 2  # as stored, most sets are unique
    supplier_id = _attacker(runtime)
    k = runtime.settings.slice_min_k
    for fields in (["interests"], ["interests", "gender"], ["interests", "birth_date", "postal_code"]):
        rows = _take(runtime, supplier_id, fields)
        classes = Counter(json.dumps(row["interests"]) for row in rows)
        assert not classes or min(classes.values()) >= k, (fields, classes)
        assert_k_anonymous(rows, k)
        # Most exact sets are unique here, so none is released: parent categories, a size band, or withheld.
        assert not any(
            set(row["interests"]) & set(INTERESTS) for row in rows if isinstance(row["interests"], list)
        )


field_sets = st.lists(st.sampled_from(FIELDS), min_size=1, max_size=4, unique=True)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(requests=st.lists(field_sets, min_size=2, max_size=5))
def test_random_slices_joined_on_every_key_never_give_a_class_below_k(
    runtime: Runtime, requests: list[list[str]]
) -> None:
    # The population and the attacker are made once and kept across examples (one test, one transaction).
    with runtime.session_factory() as session:
        supplier_id = session.scalar(select(Supplier.id).where(Supplier.name == ATTACKER))
        seeded = session.scalar(select(func.count()).select_from(Customer))
    if not seeded:
        _population(runtime)
    supplier_id = supplier_id or _attacker(runtime)
    k = runtime.settings.slice_min_k
    releases = [_take(runtime, supplier_id, fields) for fields in requests]
    # No pseudonym is in two releases, whatever the fields.
    seen = Counter(row[KEY] for rows in releases for row in rows)
    assert not seen or max(seen.values()) == 1
    # Joined on the pseudonym: every assembled row is a row of one release, in a class of at least k.
    assert_k_anonymous(joined_on_pseudonyms(releases), k)
    # Joined on every column two releases share: a row of one stands for at least k of the other.
    for i, a in enumerate(releases):
        for j, b in enumerate(releases):
            if i != j:
                smallest = smallest_joined_class(a, b)
                assert smallest is None or smallest >= k, (requests[i], requests[j], smallest)
