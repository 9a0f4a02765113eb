"""Random audience predicates, and the predicate language read literally in Python, apart from `predicate`."""

from __future__ import annotations

from typing import Any, NamedTuple

from hypothesis import strategies as st


class Person(NamedTuple):
    """A group of `count` customers with the same index values (None: not given)."""

    count: int
    gender: str | None
    postal_prefix: str | None
    age_band: str | None
    interests: frozenset[str]


GENDERS = ["female", "male", "non_binary"]
PREFIXES = ["75", "69", "10", "13"]
AGE_BANDS = ["35-44", "65+", "18-24"]
INTERESTS = ["cycling", "cooking", "running"]


def _leaf(key: str, values: list[str]) -> dict[str, Any]:
    return {"in": [key, values]} if len(values) > 1 else {"eq": [key, values[0]]}


# Leaves over every kind of column: a plain one with unknowns (gender), a prefix, a band, the interest bits.
LEAVES = st.one_of(
    *(
        st.lists(st.sampled_from(domain), min_size=1, max_size=3).map(lambda vs, key=key: _leaf(key, vs))
        for key, domain in (
            ("gender", GENDERS),
            ("postal_prefix", PREFIXES),
            ("age_band", AGE_BANDS),
            ("interest", INTERESTS),
        )
    )
)
PREDICATES = st.recursive(
    LEAVES,
    lambda children: st.one_of(
        st.builds(lambda c: {"not": c}, children),
        st.lists(children, min_size=1, max_size=3).map(lambda cs: {"and": cs}),
        st.lists(children, min_size=1, max_size=3).map(lambda cs: {"or": cs}),
    ),
    max_leaves=6,
)
PEOPLE = st.builds(
    Person,
    st.just(1),
    st.none() | st.sampled_from(GENDERS),
    st.none() | st.sampled_from(PREFIXES),
    st.none() | st.sampled_from(AGE_BANDS),
    st.frozensets(st.sampled_from(INTERESTS)),
)


def holds(predicate: Any, person: Person) -> bool:
    """Two-valued: an unknown value matches no condition, so it matches every negated one."""
    ((op, body),) = predicate.items()
    if op == "and":
        return all(holds(p, person) for p in body)
    if op == "or":
        return any(holds(p, person) for p in body)
    if op == "not":
        return not holds(body, person)
    key, values = (body[0], [body[1]]) if op == "eq" else body
    if key == "interest":
        return bool(person.interests & set(values))
    value = {"gender": person.gender, "postal_prefix": person.postal_prefix, "age_band": person.age_band}[key]
    return value is not None and value in values
