"""Evaluating rules against one customer's facts: pure, total, and consent-aware.

`Facts` holds only what the consent decision let the broker read for this customer: an attribute of a
category the customer did not consent to is simply absent, and a rule reading any category outside
`permitted` does not fire at all (it is not evaluated on partial facts). An absent value satisfies no test
(two-valued logic, as in audience predicates), so `not` of an unknown test holds.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from consent.vocabulary import Category
from infomediary.rules.attributes import ATTRIBUTES
from infomediary.rules.language import (
    All,
    AnyOf,
    ApplyDiscount,
    BoostCategory,
    Compare,
    Condition,
    Eq,
    In,
    Not,
    Range,
    Rule,
    ShowItem,
    categories_of,
)

# A fact is a single value, or a set of values for the multi-valued `interest`.
Fact = str | int | frozenset[str]
Facts = Mapping[str, Fact]


def fires(rule: Rule, facts: Facts, permitted: Collection[Category]) -> bool:
    if not categories_of(rule) <= set(permitted):
        return False
    return rule.when is None or holds(rule.when, facts)


def holds(condition: Condition, facts: Facts) -> bool:
    match condition:
        case All():
            return all(holds(c, facts) for c in condition.items)
        case AnyOf():
            return any(holds(c, facts) for c in condition.items)
        case Not():
            return not holds(condition.item, facts)
        case Eq():
            return _matches(facts.get(condition.attribute), {condition.value})
        case In():
            return _matches(facts.get(condition.attribute), set(condition.values))
        case Range():
            domain: list[str | int] = list(ATTRIBUTES[condition.attribute].values or ())
            values = domain[domain.index(condition.low) : domain.index(condition.high) + 1]
            return _matches(facts.get(condition.attribute), set(values))
        case Compare():
            value = facts.get(condition.attribute)
            if not isinstance(value, int):
                return False
            return value >= condition.number if condition.op == "gte" else value <= condition.number


def _matches(value: Fact | None, allowed: set[str | int]) -> bool:
    if value is None:
        return False
    if isinstance(value, frozenset):
        return bool(value & allowed)
    return value in allowed


@dataclass
class Effects:
    """What the fired rules ask for, merged: items to show first, category boosts, discounts."""

    show: list[str] = field(default_factory=list)
    boosts: dict[str, float] = field(default_factory=dict)
    discounts: list[ApplyDiscount] = field(default_factory=list)
    fired: list[str] = field(default_factory=list)


def effects(rules: Mapping[str, Rule], facts: Facts, permitted: Collection[Category]) -> Effects:
    """Fire every rule (by id, in the given order) and merge their actions; boosts multiply."""
    out = Effects()
    for rule_id, rule in rules.items():
        if not fires(rule, facts, permitted):
            continue
        out.fired.append(rule_id)
        for action in rule.then:
            match action:
                case ShowItem():
                    if action.item not in out.show:
                        out.show.append(action.item)
                case BoostCategory():
                    out.boosts[action.category] = out.boosts.get(action.category, 1.0) * action.factor
                case ApplyDiscount():
                    out.discounts.append(action)
    return out
