"""The business rule language: a small JSON document, parsed into frozen dataclasses, never executed.

    {"when": <condition>, "then": [<action>, ...]}

Conditions (at most `MAX_DEPTH` deep, `MAX_CONDITIONS` tests):

    {"all": [c, ...]}  {"any": [c, ...]}  {"not": c}
    {"eq": ["gender", "female"]}  {"in": ["interest", ["cycling", "hiking"]]}
    {"range": ["age_band", "45-54", "65+"]}   (ordered attributes)
    {"gte": ["basket_value", 5000]}  {"lte": ["basket_items", 3]}   (numeric attributes)

Actions (at most `MAX_ACTIONS`):

    {"show_item": "sku:123"}                                   put this item first
    {"boost_category": {"category": "books", "factor": 2}}     multiply scores of the category's items
    {"apply_discount": {"percent": 10}}                        or {"percent": 10, "item": "sku:123"}

`when` is optional (a rule without one fires for every consenting customer). Attributes come from the
allow-list in `attributes`. The parser walks plain JSON values and builds data; nothing in a rule is ever
evaluated as code. The document is bounded before it is walked (`MAX_BYTES`, depth), and every error names
the JSON pointer of what is wrong.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from consent.vocabulary import Category
from infomediary.rules.attributes import ATTRIBUTES, MAX_NUMBER, Attribute

MAX_BYTES = 4096
MAX_DEPTH = 5
MAX_CONDITIONS = 20
MAX_ACTIONS = 10
MAX_VALUES = 50
MAX_FACTOR = 10.0
ITEM_ID = re.compile(r"[\x21-\x7e]{1,128}", re.ASCII)
CATEGORY_KEY = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}", re.ASCII)

Value = str | int


class RuleError(ValueError):
    """A rule that is not valid: `pointer` says where (RFC 6901), the message says what."""

    def __init__(self, pointer: str, message: str) -> None:
        super().__init__(f"{pointer or '/'}: {message}")
        self.pointer = pointer or "/"
        self.reason = message


# Conditions --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class All:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    item: Condition


@dataclass(frozen=True)
class Eq:
    attribute: str
    value: Value


@dataclass(frozen=True)
class In:
    attribute: str
    values: tuple[Value, ...]


@dataclass(frozen=True)
class Range:
    attribute: str
    low: Value
    high: Value


@dataclass(frozen=True)
class Compare:
    op: str  # "gte" or "lte"
    attribute: str
    number: int


Condition = All | AnyOf | Not | Eq | In | Range | Compare

# Actions -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShowItem:
    item: str


@dataclass(frozen=True)
class BoostCategory:
    category: str
    factor: float


@dataclass(frozen=True)
class ApplyDiscount:
    percent: int
    item: str | None = None


Action = ShowItem | BoostCategory | ApplyDiscount


@dataclass(frozen=True)
class Rule:
    when: Condition | None
    then: tuple[Action, ...]


# Parsing -----------------------------------------------------------------------------------------------


def parse(raw: Any) -> Rule:
    """A `Rule` from JSON-decoded data, or `RuleError` naming the first problem and where it is."""
    _check_shape(raw)
    size = len(json.dumps(raw, separators=(",", ":"), default=str).encode())
    if size > MAX_BYTES:
        raise RuleError("", f"a rule is at most {MAX_BYTES} bytes of JSON; this one is {size}")
    if not isinstance(raw, dict):
        raise RuleError("", "a rule is an object with `then` and optionally `when`")
    unknown = set(raw) - {"when", "then"}
    if unknown:
        raise RuleError("", f"unknown member(s) {sorted(unknown)}; a rule has only `when` and `then`")
    if "then" not in raw:
        raise RuleError("/then", "a rule needs `then`, a list of actions")
    when = _condition(raw["when"], "/when") if raw.get("when") is not None else None
    then = raw["then"]
    if not isinstance(then, list) or not 1 <= len(then) <= MAX_ACTIONS:
        raise RuleError("/then", f"`then` is a list of 1 to {MAX_ACTIONS} actions")
    return Rule(when, tuple(_action(a, f"/then/{i}") for i, a in enumerate(then)))


def _check_shape(raw: Any) -> None:
    """Depth and count of conditions, iteratively, before any recursion: a deep document cannot recurse."""
    _check_nesting(raw)
    stack: list[tuple[Any, int, str]] = []
    if isinstance(raw, dict) and raw.get("when") is not None:
        stack.append((raw["when"], 1, "/when"))
    conditions = 0
    while stack:
        node, level, pointer = stack.pop()
        if level > MAX_DEPTH:
            raise RuleError(pointer, f"conditions nest at most {MAX_DEPTH} levels deep")
        if not isinstance(node, dict) or len(node) != 1:
            continue
        ((key, body),) = node.items()
        if key in ("all", "any") and isinstance(body, list):
            stack.extend((child, level + 1, f"{pointer}/{key}/{i}") for i, child in enumerate(body))
        elif key == "not":
            stack.append((body, level + 1, f"{pointer}/not"))
        else:
            conditions += 1
            if conditions > MAX_CONDITIONS:
                raise RuleError("/when", f"a rule tests at most {MAX_CONDITIONS} conditions")


def _check_nesting(raw: Any) -> None:
    """No JSON container anywhere deeper than a valid rule can be (conditions plus the action bodies)."""
    limit = 2 * MAX_DEPTH + 4
    stack: list[tuple[Any, int]] = [(raw, 0)]
    while stack:
        node, level = stack.pop()
        if level > limit:
            raise RuleError(
                "/when" if isinstance(raw, dict) and "when" in raw else "",
                f"conditions nest at most {MAX_DEPTH} levels deep",
            )
        if isinstance(node, dict):
            stack.extend((child, level + 1) for child in node.values())
        elif isinstance(node, list):
            stack.extend((child, level + 1) for child in node)


def _single(raw: Any, pointer: str, kinds: tuple[str, ...], what: str) -> tuple[str, Any]:
    if not isinstance(raw, dict) or len(raw) != 1:
        raise RuleError(pointer, f"{what} is an object with exactly one of: {', '.join(kinds)}")
    ((key, body),) = raw.items()
    if key not in kinds:
        raise RuleError(pointer, f"unknown {what} {key!r}; allowed: {', '.join(kinds)}")
    return key, body


_CONDITIONS = ("all", "any", "not", "eq", "in", "range", "gte", "lte")


def _condition(raw: Any, pointer: str) -> Condition:
    key, body = _single(raw, pointer, _CONDITIONS, "a condition")
    here = f"{pointer}/{key}"
    if key in ("all", "any"):
        if not isinstance(body, list) or not 1 <= len(body) <= MAX_CONDITIONS:
            raise RuleError(here, f"`{key}` takes a list of 1 to {MAX_CONDITIONS} conditions")
        items = tuple(_condition(c, f"{here}/{i}") for i, c in enumerate(body))
        return All(items) if key == "all" else AnyOf(items)
    if key == "not":
        return Not(_condition(body, here))
    if not isinstance(body, list):
        raise RuleError(here, f"`{key}` takes a list: [attribute, ...]")
    arity = {"eq": 2, "in": 2, "range": 3, "gte": 2, "lte": 2}[key]
    if len(body) != arity:
        raise RuleError(here, f"`{key}` takes {arity} members: [attribute, ...]")
    attribute = _attribute(body[0], f"{here}/0")
    if key == "eq":
        return Eq(attribute.key, _value(attribute, body[1], f"{here}/1"))
    if key == "in":
        values = body[1]
        if not isinstance(values, list) or not 1 <= len(values) <= MAX_VALUES:
            raise RuleError(f"{here}/1", f"`in` takes a list of 1 to {MAX_VALUES} values")
        return In(attribute.key, tuple(_value(attribute, v, f"{here}/1/{i}") for i, v in enumerate(values)))
    if key == "range":
        if attribute.numeric or not attribute.ordered or attribute.values is None:
            raise RuleError(f"{here}/0", f"{attribute.key} has no order of values; use eq or in (or gte/lte)")
        low, high = _value(attribute, body[1], f"{here}/1"), _value(attribute, body[2], f"{here}/2")
        domain: tuple[Value, ...] = attribute.values
        if domain.index(low) > domain.index(high):
            raise RuleError(here, f"empty range: {low!r} comes after {high!r}")
        return Range(attribute.key, low, high)
    if not attribute.numeric:
        raise RuleError(f"{here}/0", f"`{key}` compares numbers; {attribute.key} is not a number")
    return Compare(key, attribute.key, _number(body[1], f"{here}/1"))


def _attribute(raw: Any, pointer: str) -> Attribute:
    attribute = ATTRIBUTES.get(raw) if isinstance(raw, str) else None
    if attribute is None:
        raise RuleError(pointer, f"unknown attribute {raw!r}; allowed: {', '.join(ATTRIBUTES)}")
    return attribute


def _value(attribute: Attribute, raw: Any, pointer: str) -> Value:
    if attribute.numeric:
        return _number(raw, pointer)
    assert attribute.values is not None
    if isinstance(raw, bool) or raw not in attribute.values:
        raise RuleError(
            pointer, f"{raw!r} is not a value of {attribute.key}; allowed: {list(attribute.values)}"
        )
    return raw  # type: ignore[no-any-return]


def _number(raw: Any, pointer: str) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= MAX_NUMBER:
        raise RuleError(pointer, f"expected a whole number from 0 to {MAX_NUMBER}")
    return raw


_ACTIONS = ("show_item", "boost_category", "apply_discount")


def _action(raw: Any, pointer: str) -> Action:
    key, body = _single(raw, pointer, _ACTIONS, "an action")
    here = f"{pointer}/{key}"
    if key == "show_item":
        return ShowItem(_item(body, here))
    if not isinstance(body, dict):
        raise RuleError(here, f"`{key}` takes an object")
    if key == "boost_category":
        _members(body, here, required={"category", "factor"}, optional=set())
        category = body["category"]
        if not isinstance(category, str) or not CATEGORY_KEY.fullmatch(category):
            raise RuleError(f"{here}/category", "a catalog category key: lower-case letters, digits, _ or -")
        factor = body["factor"]
        if (
            isinstance(factor, bool)
            or not isinstance(factor, int | float)
            or not math.isfinite(factor)
            or not 0 < factor <= MAX_FACTOR
        ):
            raise RuleError(f"{here}/factor", f"a number above 0 and at most {MAX_FACTOR}")
        return BoostCategory(category, float(factor))
    _members(body, here, required={"percent"}, optional={"item"})
    percent = body["percent"]
    if isinstance(percent, bool) or not isinstance(percent, int) or not 1 <= percent <= 90:
        raise RuleError(f"{here}/percent", "a whole percentage from 1 to 90")
    item = _item(body["item"], f"{here}/item") if body.get("item") is not None else None
    return ApplyDiscount(percent, item)


def _members(body: dict[str, Any], pointer: str, *, required: set[str], optional: set[str]) -> None:
    missing = required - set(body)
    unknown = set(body) - required - optional
    if missing:
        raise RuleError(pointer, f"missing member(s) {sorted(missing)}")
    if unknown:
        raise RuleError(pointer, f"unknown member(s) {sorted(unknown)}")


def _item(raw: Any, pointer: str) -> str:
    if not isinstance(raw, str) or not ITEM_ID.fullmatch(raw):
        raise RuleError(pointer, "an item id of your catalog: 1 to 128 printable ASCII characters")
    return raw


# Dumping and reading -----------------------------------------------------------------------------------


def dump(rule: Rule) -> dict[str, Any]:
    """The rule as JSON data; `parse(dump(rule)) == rule`."""
    out: dict[str, Any] = {"then": [_dump_action(a) for a in rule.then]}
    if rule.when is not None:
        out["when"] = _dump_condition(rule.when)
    return out


def _dump_condition(c: Condition) -> dict[str, Any]:
    match c:
        case All():
            return {"all": [_dump_condition(i) for i in c.items]}
        case AnyOf():
            return {"any": [_dump_condition(i) for i in c.items]}
        case Not():
            return {"not": _dump_condition(c.item)}
        case Eq():
            return {"eq": [c.attribute, c.value]}
        case In():
            return {"in": [c.attribute, list(c.values)]}
        case Range():
            return {"range": [c.attribute, c.low, c.high]}
        case Compare():
            return {c.op: [c.attribute, c.number]}


def _dump_action(a: Action) -> dict[str, Any]:
    match a:
        case ShowItem():
            return {"show_item": a.item}
        case BoostCategory():
            return {"boost_category": {"category": a.category, "factor": a.factor}}
        case ApplyDiscount():
            body: dict[str, Any] = {"percent": a.percent}
            if a.item is not None:
                body["item"] = a.item
            return {"apply_discount": body}


def attributes_of(condition: Condition | None) -> frozenset[str]:
    match condition:
        case None:
            return frozenset()
        case All() | AnyOf():
            return frozenset().union(*(attributes_of(i) for i in condition.items))
        case Not():
            return attributes_of(condition.item)
        case Eq() | In() | Range() | Compare():
            return frozenset({condition.attribute})


def categories_of(rule: Rule) -> frozenset[Category]:
    """The data categories a rule reads: it fires only for customers who consent to all of them."""
    return frozenset(ATTRIBUTES[key].category for key in attributes_of(rule.when))
