"""The predicate language: allow-listed dimensions, checked values, bounded size, one canonical form."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from pydantic import TypeAdapter, ValidationError

from infomediary.audiences.predicate import Node, Predicate, canonical, check_shape, dump
from tests.audiences.predicates import PEOPLE, PREDICATES, Person, holds

PARSE: TypeAdapter[Any] = TypeAdapter(Predicate)


def form(raw: Any) -> str:
    node: Node = PARSE.validate_python(raw)
    return dump(canonical(node))


@pytest.mark.parametrize(
    "raw",
    [
        {"eq": ["birth_date", "1990-01-01"]},
        {"eq": ["age_band", "26-33"]},
        {"in": ["postal_prefix", ["75011"]]},
        {"range": ["gender", "female", "male"]},
        {"range": ["rfm_monetary_band", 4, 2]},
        {"range": ["rfm_monetary_band", 0, 9]},
        {"eq": ["interest", "astrology"]},
        {"xor": []},
        {"eq": ["gender", "female"], "in": ["gender", ["male"]]},
        {"and": []},
    ],
)
def test_invalid_predicates_are_refused(raw: Any) -> None:
    with pytest.raises(ValidationError):
        PARSE.validate_python(raw)


def test_depth_and_size_are_bounded() -> None:
    deep: Any = {"eq": ["gender", "female"]}
    for _ in range(5):
        deep = {"not": deep}
    with pytest.raises(ValueError, match="deep"):
        check_shape(deep)
    wide = {"and": [{"eq": ["gender", "female"]}] * 21}
    with pytest.raises(ValueError, match="conditions"):
        check_shape(wide)
    check_shape({"and": [{"eq": ["gender", "female"]}] * 20})


def test_equal_predicates_share_one_canonical_form() -> None:
    a = form({"and": [{"eq": ["age_band", "25-34"]}, {"range": ["rfm_recency_band", 4, 5]}]})
    b = form({"and": [{"in": ["rfm_recency_band", [5, 4]]}, {"and": [{"in": ["age_band", ["25-34"]]}]}]})
    assert a == b
    assert form({"not": {"not": {"eq": ["gender", "male"]}}}) == form({"eq": ["gender", "male"]})


@given(PREDICATES, PEOPLE)
def test_the_canonical_form_means_what_the_predicate_means(raw: Any, person: Person) -> None:
    # The canonical form is what is compiled to SQL, stored for the differencing check and keyed by the
    # cache: flattening, sorting and deduplicating must not change who matches.
    node: Node = PARSE.validate_python(raw)
    assert holds(canonical(node), person) == holds(raw, person)


def test_or_of_or_flattens_but_never_into_an_and() -> None:
    nested = {"or": [{"eq": ["gender", "male"]}, {"or": [{"eq": ["interest", "cycling"]}]}]}
    flat = {"or": [{"eq": ["interest", "cycling"]}, {"in": ["gender", ["male"]]}]}
    assert form(nested) == form(flat)
    within_and = {
        "and": [
            {"eq": ["gender", "male"]},
            {"or": [{"eq": ["gender", "female"]}, {"eq": ["gender", "male"]}]},
        ]
    }
    assert "or" in json.loads(form(within_and))["and"][1]
