"""The rule language: the seeds' rules are expressible, unsafe or oversized rules are refused with a pointer,
dump/parse round trips, and rules reading unconsented categories never fire."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consent.vocabulary import Category
from infomediary.rules import language
from infomediary.rules.attributes import ATTRIBUTES
from infomediary.rules.evaluate import effects, fires
from infomediary.rules.language import RuleError, parse

OVER_45 = {"when": {"range": ["age_band", "45-54", "65+"]}, "then": [{"show_item": "sku:X"}]}
ORDER_OVER = {"when": {"gte": ["basket_value", 10000]}, "then": [{"apply_discount": {"percent": 15}}]}


def test_the_seeds_rules_are_expressible_and_fire_as_meant() -> None:
    over_45, order_over = parse(OVER_45), parse(ORDER_OVER)
    everything = set(Category)
    assert fires(over_45, {"age_band": "55-64"}, everything)
    assert not fires(over_45, {"age_band": "35-44"}, everything)
    assert fires(order_over, {"basket_value": 12000}, everything)
    assert not fires(order_over, {"basket_value": 9999}, everything)
    merged = effects({"a": over_45, "b": order_over}, {"age_band": "65+", "basket_value": 10000}, everything)
    assert merged.show == ["sku:X"] and merged.discounts[0].percent == 15


def test_rules_on_unconsented_categories_never_fire() -> None:
    over_45 = parse(OVER_45)
    assert not fires(over_45, {"age_band": "55-64"}, {Category.ACTIVITY, Category.INTERESTS})
    negated = parse({"when": {"not": {"eq": ["gender", "male"]}}, "then": [{"show_item": "a"}]})
    # Absent facts satisfy `not`; without consent the rule must still stay silent.
    assert not fires(negated, {}, {Category.ACTIVITY})
    assert fires(negated, {}, {Category.DEMOGRAPHICS})


def _nest(depth: int) -> dict[str, Any]:
    node: dict[str, Any] = {"eq": ["gender", "male"]}
    for _ in range(depth):
        node = {"not": node}
    return node


@pytest.mark.parametrize(
    ("raw", "pointer", "words"),
    [
        ("__import__('os').system('id')", "/", "object"),
        ({"when": {"eq": ["__class__", 1]}, "then": [{"show_item": "a"}]}, "/when/eq/0", "unknown attribute"),
        ({"when": {"exec": "x"}, "then": [{"show_item": "a"}]}, "/when", "unknown a condition"),
        ({"then": [{"eval": "1+1"}]}, "/then/0", "unknown an action"),
        ({"when": _nest(10), "then": [{"show_item": "a"}]}, "/when/not/not/not/not/not", "levels deep"),
        (
            {"when": {"all": [{"eq": ["gender", "male"]}] * 21}, "then": [{"show_item": "a"}]},
            "/when",
            "at most 20",
        ),
        ({"then": [{"show_item": "a" * 5000}]}, "/", "at most 4096 bytes"),
        ({"then": [{"show_item": "a"}] * 11}, "/then", "1 to 10"),
        ({"then": []}, "/then", "1 to 10"),
        ({"when": {"eq": ["age_band", "46"]}, "then": [{"show_item": "a"}]}, "/when/eq/1", "not a value"),
        ({"when": {"gte": ["age_band", 3]}, "then": [{"show_item": "a"}]}, "/when/gte/0", "not a number"),
        (
            {"when": {"range": ["gender", "female", "male"]}, "then": [{"show_item": "a"}]},
            "/when/range/0",
            "order",
        ),
        ({"then": [{"apply_discount": {"percent": 95}}]}, "/then/0/apply_discount/percent", "1 to 90"),
        (
            {"then": [{"boost_category": {"category": "b", "factor": float("inf")}}]},
            "/then/0/boost_category/factor",
            "at most",
        ),
        ({"then": [{"show_item": "a"}], "run": "x"}, "/", "unknown member"),
    ],
)
def test_unsafe_or_oversized_rules_are_refused_with_a_pointer(raw: Any, pointer: str, words: str) -> None:
    with pytest.raises(RuleError) as caught:
        parse(raw)
    assert caught.value.pointer == pointer
    assert words.replace("unknown a ", "unknown a") in str(caught.value) or words in str(caught.value)


def test_a_hugely_deep_document_is_refused_without_recursing() -> None:
    with pytest.raises(RuleError, match="levels deep"):
        parse({"when": _nest(100_000), "then": [{"show_item": "a"}]})


_ENUMS = {k: a for k, a in ATTRIBUTES.items() if not a.numeric}
_NUMERIC = [k for k, a in ATTRIBUTES.items() if a.numeric]


@st.composite
def _test(draw: st.DrawFn) -> dict[str, Any]:
    if draw(st.booleans()):
        key = draw(st.sampled_from(_NUMERIC))
        return {draw(st.sampled_from(["gte", "lte"])): [key, draw(st.integers(0, 10**12))]}
    key = draw(st.sampled_from(sorted(_ENUMS)))
    values = list(_ENUMS[key].values or ())
    kind = draw(st.sampled_from(["eq", "in", "range"] if _ENUMS[key].ordered else ["eq", "in"]))
    if kind == "eq":
        return {"eq": [key, draw(st.sampled_from(values))]}
    if kind == "in":
        return {"in": [key, draw(st.lists(st.sampled_from(values), min_size=1, max_size=4))]}
    low = draw(st.integers(0, len(values) - 1))
    high = draw(st.integers(low, len(values) - 1))
    return {"range": [key, values[low], values[high]]}


_conditions = st.recursive(
    _test(),
    lambda inner: st.one_of(
        st.builds(lambda xs: {"all": xs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda xs: {"any": xs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda x: {"not": x}, inner),
    ),
    max_leaves=6,
)
_actions = st.one_of(
    st.builds(lambda i: {"show_item": i}, st.from_regex(r"[a-z]{1,8}:[0-9]{1,6}", fullmatch=True)),
    st.builds(
        lambda c, f: {"boost_category": {"category": c, "factor": f}},
        st.from_regex(r"[a-z][a-z0-9_-]{0,10}", fullmatch=True),
        st.floats(0.01, 10.0),
    ),
    st.builds(lambda p: {"apply_discount": {"percent": p}}, st.integers(1, 90)),
)


@given(when=st.one_of(st.none(), _conditions), then=st.lists(_actions, min_size=1, max_size=10))
def test_parse_and_dump_round_trip(when: Any, then: list[Any]) -> None:
    raw: dict[str, Any] = {"then": then} if when is None else {"when": when, "then": then}
    refused: RuleError | None = None
    try:
        rule = parse(raw)
    except RuleError as exc:
        refused = exc
    if refused is not None:
        # The only refusals of generated rules are the documented bounds.
        assert any(w in str(refused) for w in ("levels deep", "at most", "bytes")), refused
        return
    dumped = language.dump(rule)
    assert parse(dumped) == rule
    assert parse(json.loads(json.dumps(dumped))) == rule
