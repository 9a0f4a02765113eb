"""The audience predicate language: a small JSON tree over allow-listed dimensions, validated and compiled.

    {"and": [p, ...]}   {"or": [p, ...]}   {"not": p}
    {"eq": ["age_band", "25-34"]}   {"in": ["postal_prefix", ["75", "69"]]}
    {"range": ["rfm_monetary_band", 3, 5]}

Every dimension must be in `dimensions.DIMENSIONS` and every value in its domain; `range` needs an ordered
dimension. A predicate is at most `MAX_DEPTH` deep and holds at most `MAX_CONDITIONS` conditions. Conditions
use two-valued logic (an unknown value does not match, and so matches its negation), so that
count(A) = count(A and x) + count(A and not x) holds, and a customer is matched or not, never unknown.

`canonical()` gives one spelling per predicate (flattened, sorted, deduplicated): the cache key, and the
form stored for the differencing check (`audiences.differencing`, which compares the customers matched).
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator
from sqlalchemy import ColumnElement, and_, or_

from consent.vocabulary import Category
from infomediary.audiences.dimensions import DIMENSIONS, INTERESTS, Dimension
from infomediary.audiences.models import AudienceIndexRow
from infomediary.text import KEY_LENGTH, Key, Line

MAX_DEPTH = 5
MAX_CONDITIONS = 20
MAX_VALUES = 50
# Above every number of a dimension's domain (the bands count from 1 to 5).
MAX_VALUE = 1000

Value = str | int
# A value (and its dimension, a `Key`) as a request names it: bounded like any input; the allow-list decides.
ValueIn = Annotated[Line, Field(max_length=KEY_LENGTH)] | Annotated[int, Field(ge=0, le=MAX_VALUE)]
Canonical = Any


def _dimension(key: str) -> Dimension:
    dimension = DIMENSIONS.get(key)
    if dimension is None:
        raise ValueError(f"unknown dimension {key!r}; allowed: {', '.join(DIMENSIONS)}")
    return dimension


def _check_value(dimension: Dimension, value: Value) -> None:
    if not dimension.accepts(value):
        shown = dimension.domain if dimension.domain is not None else "two upper-case letters or digits"
        raise ValueError(f"{value!r} is not a value of {dimension.key} (allowed: {shown})")


class _Node(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Eq(_Node):
    eq: tuple[Key, ValueIn]

    @model_validator(mode="after")
    def _valid(self) -> Eq:
        _check_value(_dimension(self.eq[0]), self.eq[1])
        return self


class In(_Node):
    in_: tuple[Key, Annotated[list[ValueIn], Field(min_length=1, max_length=MAX_VALUES)]] = Field(alias="in")

    @model_validator(mode="after")
    def _valid(self) -> In:
        dimension = _dimension(self.in_[0])
        for value in self.in_[1]:
            _check_value(dimension, value)
        return self


class Range(_Node):
    range: tuple[Key, ValueIn, ValueIn]

    @model_validator(mode="after")
    def _valid(self) -> Range:
        key, low, high = self.range
        dimension = _dimension(key)
        if not dimension.ordered or dimension.domain is None:
            raise ValueError(f"{key} has no order; use eq or in")
        _check_value(dimension, low)
        _check_value(dimension, high)
        if dimension.domain.index(low) > dimension.domain.index(high):
            raise ValueError(f"range of {key} is empty: {low!r} comes after {high!r}")
        return self

    def values(self) -> list[Value]:
        key, low, high = self.range
        domain: list[Value] = list(DIMENSIONS[key].domain or ())
        return domain[domain.index(low) : domain.index(high) + 1]


class And(_Node):
    and_: Annotated[list[Predicate], Field(alias="and", min_length=1, max_length=MAX_CONDITIONS)]


class Or(_Node):
    or_: Annotated[list[Predicate], Field(alias="or", min_length=1, max_length=MAX_CONDITIONS)]


class Not(_Node):
    not_: Predicate = Field(alias="not")


_OPERATORS = ("and", "or", "not", "eq", "in", "range")


def _operator(raw: Any) -> str | None:
    if isinstance(raw, dict) and len(raw) == 1:
        (key,) = raw
        return key if key in _OPERATORS else None
    if isinstance(raw, BaseModel):
        names: dict[type[BaseModel], str] = {
            And: "and", Or: "or", Not: "not", Eq: "eq", In: "in", Range: "range"
        }  # fmt: skip
        return names.get(type(raw))
    return None


Predicate = Annotated[
    Union[  # noqa: UP007 - a forward-referenced recursive union needs the Union spelling
        Annotated[And, Tag("and")],
        Annotated[Or, Tag("or")],
        Annotated[Not, Tag("not")],
        Annotated[Eq, Tag("eq")],
        Annotated[In, Tag("in")],
        Annotated[Range, Tag("range")],
    ],
    Discriminator(
        _operator,
        custom_error_type="invalid_predicate",
        custom_error_message="a predicate is an object with exactly one of: " + ", ".join(_OPERATORS),
    ),
]
for _model in (And, Or, Not):
    _model.model_rebuild()

Node = And | Or | Not | Eq | In | Range


def raw_shape(raw: Any) -> tuple[int, int]:
    """(depth, conditions) of raw JSON, iteratively: checked before parsing so a deep body cannot recurse."""
    depth, conditions = 0, 0
    stack: list[tuple[Any, int]] = [(raw, 1)]
    while stack:
        node, level = stack.pop()
        depth = max(depth, level)
        if not isinstance(node, dict) or len(node) != 1:
            continue
        ((key, body),) = node.items()
        if key in ("and", "or") and isinstance(body, list):
            stack.extend((child, level + 1) for child in body)
        elif key == "not":
            stack.append((body, level + 1))
        else:
            conditions += 1
        if depth > MAX_DEPTH or conditions > MAX_CONDITIONS:
            break
    return depth, conditions


def check_shape(raw: Any) -> None:
    depth, conditions = raw_shape(raw)
    if depth > MAX_DEPTH:
        raise ValueError(f"the predicate is nested more than {MAX_DEPTH} levels deep")
    if conditions > MAX_CONDITIONS:
        raise ValueError(f"the predicate has more than {MAX_CONDITIONS} conditions")


def dimensions_of(node: Node) -> set[str]:
    match node:
        case And():
            return set().union(*(dimensions_of(c) for c in node.and_))
        case Or():
            return set().union(*(dimensions_of(c) for c in node.or_))
        case Not():
            return dimensions_of(node.not_)
        case Eq():
            return {node.eq[0]}
        case In():
            return {node.in_[0]}
        case Range():
            return {node.range[0]}


def categories_of(node: Node) -> frozenset[Category]:
    """The data categories a count over `node` uses: those its dimensions derive from."""
    return frozenset(DIMENSIONS[key].category for key in dimensions_of(node))


def canonical(node: Node) -> Canonical:
    """One JSON-able spelling per predicate: and/or flattened, children and values sorted and deduplicated.

    A single-valued `in` and a `range` become the `in` of the values they match, so equal conditions
    spelled differently share a cache entry.
    """
    match node:
        case And() | Or():
            op, children = ("and", node.and_) if isinstance(node, And) else ("or", node.or_)
            flat: set[str] = set()
            for child in children:
                form = canonical(child)
                if isinstance(form, dict) and op in form:
                    flat.update(_dump(c) for c in form[op])
                else:
                    flat.add(_dump(form))
            items = sorted(flat)
            return json.loads(items[0]) if len(items) == 1 else {op: [json.loads(i) for i in items]}
        case Not():
            inner = canonical(node.not_)
            return inner["not"] if isinstance(inner, dict) and "not" in inner else {"not": inner}
        case Eq():
            return {"in": [node.eq[0], [node.eq[1]]]}
        case In():
            return {"in": [node.in_[0], sorted(set(node.in_[1]), key=_dump)]}
        case Range():
            return {"in": [node.range[0], node.values()]}


def compile_where(form: Canonical, *, negated: bool = False) -> ColumnElement[bool]:
    """The canonical predicate as a WHERE clause over `audience_index`.

    Negation is pushed down to the conditions (De Morgan), where an unknown (NULL) value is made to match
    explicitly: two-valued logic, without an `IS NOT NULL` on positive conditions that would keep the
    planners from using the indexes as equality lookups.
    """
    if "and" in form or "or" in form:
        children = [compile_where(c, negated=negated) for c in form.get("and", form.get("or"))]
        return and_(*children) if ("and" in form) != negated else or_(*children)
    if "not" in form:
        return compile_where(form["not"], negated=not negated)
    key, values = form["in"]
    if key == "interest":
        mask = sum(1 << INTERESTS.index(v) for v in values)
        flags = AudienceIndexRow.interests.op("&")(mask)
        return flags == 0 if negated else flags != 0
    column: ColumnElement[Any] = getattr(AudienceIndexRow, key)
    if negated:
        return or_(column.is_(None), column.not_in(values))
    return column == values[0] if len(values) == 1 else column.in_(values)


def dump(form: Canonical) -> str:
    return _dump(form)


def _dump(form: Canonical) -> str:
    return json.dumps(form, sort_keys=True, separators=(",", ":"))
