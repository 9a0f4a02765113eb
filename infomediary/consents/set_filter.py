"""The set-based form of `decide()`: one SQL statement that selects every customer a query permits.

The broker's audience queries apply the decision to hundreds of thousands of customers at once; deciding
them one by one would not scale. This module compiles `consent.plan.plan()` (the customer-independent
part of a query) into a `SELECT customers.id`, applying rules 1-6 of `consent.decision` in set form:

* terms: customers with a matching "never purpose", "never category", "no struck suppliers" or unmet
  minimum-price term are excluded (one `NOT IN`);
* records, all asked categories at once: the in-force candidate records (the four scopes of the plan) are
  grouped by customer in one subquery, and per category, conditional aggregates per specificity level find
  the deciding level, whether a "no" sits there, the latest grant there against the latest broader "no",
  and the grants that survive GPC and the identity and sensitive-data rules, with their highest price;
* when every asked category's default permits, the customers whose records deny one are excluded
  (`NOT IN`); when one's default denies, only the customers whose records permit all are kept (`IN`).
  One subquery rather than one per category: an audience count over four categories paid four probes
  of `consent_records` per customer.

The property test `tests/consents/test_set_filter.py` checks on random populations that this selects
exactly the customers `decide()` permits.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    and_,
    bindparam,
    case,
    exists,
    false,
    func,
    not_,
    or_,
    select,
)
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased

from consent.decision import SupplierQuery
from consent.plan import CategoryPlan, DecisionPlan, plan
from consent.policy import PolicyInForce
from consent.records import ConsentState
from infomediary.consents import repository
from infomediary.consents.models import ConsentRecordRow, PrivacySignalRow, StandingTermRow
from infomediary.customers.models import Customer
from infomediary.profiles.models import ProcessingRestriction

_GIVEN = ConsentState.GIVEN.value
_DENY_STATES = (ConsentState.REFUSED.value, ConsentState.WITHDRAWN.value)
LEVELS = (0, 1, 2)
# The one time-dependent input of the condition, a named parameter: a caller that keeps a built condition
# for reuse (the audience count: building it costs far more than running it) passes the time at execution.
NOW = "decision_now"


def now_param(query: SupplierQuery) -> BindParameter[Any]:
    return bindparam(NOW, query.now, type_=ConsentRecordRow.__table__.c.expires_at.type)


def permitted_customers(
    query: SupplierQuery, policy: PolicyInForce, *, correlated: bool = False
) -> Select[str]:
    """`SELECT customers.id` of every customer for whom `decide()` would permit `query` under `policy`."""
    return select(Customer.id).where(permits(Customer.id, query, policy, correlated=correlated))


def permits(
    customer_id: ColumnElement[str] | InstrumentedAttribute[str],
    query: SupplierQuery,
    policy: PolicyInForce,
    *,
    correlated: bool = False,
) -> ColumnElement[bool]:
    """The condition "`decide()` permits `query` for the customer `customer_id`", over any customer id column.

    Applied to a table keyed by customer (the audience index), it gates that table directly instead of
    through a join with `customers`, so the planner can filter the table in a single scan.

    With `correlated`, the per-category record checks become `[NOT] EXISTS` subqueries on the customer's own
    records (an index probe per customer still in the running) instead of one aggregate over every
    customer's records: faster when other conditions already leave few customers, as in an audience count.
    """
    decision_plan = plan(query, policy)
    # Rule 3 is customer-independent: an undeclared purpose or category denies everyone.
    if not decision_plan.purpose_declared or not all(c.declared for c in decision_plan.categories):
        return false()
    conditions: list[ColumnElement[bool]] = [
        # Rule 1: a customer who restricted processing is permitted nothing.
        customer_id.not_in(select(ProcessingRestriction.customer_id)),
        customer_id.not_in(_blocked_by_terms(decision_plan)),
    ]
    # Rules 4-6 for every asked category in ONE grouped subquery over the customer's records: one index
    # probe (or one aggregate) per customer instead of one per category, which was the audience count's cost.
    needs_grant = any(not c.default_permits for c in decision_plan.categories)
    if correlated:
        own = _grouped(decision_plan, permitted=needs_grant, of=customer_id)
        conditions.append(exists(own) if needs_grant else ~exists(own))
    else:
        grouped = _grouped(decision_plan, permitted=needs_grant)
        conditions.append(customer_id.in_(grouped) if needs_grant else customer_id.not_in(grouped))
    return and_(*conditions)


class PermitGate:
    """`permits` over one customer id column, built once per query shape and policy, reused with the time
    as a parameter: every statement using a gate MUST be executed with `{NOW: query.now}`.

    Building the condition (hundreds of SQL expression objects for three or four categories) cost 4 ms a
    slice and more than running the count at a million customers. Everything it is built from except the
    time is in the key (the query with its time fixed, and the whole policy in force, version and consent
    floor included), and the time is the `NOW` parameter, so a reused gate decides exactly as a new one.
    """

    _MAX = 256
    _KEY_TIME = datetime(2000, 1, 1, tzinfo=UTC)

    def __init__(
        self, customer_id: ColumnElement[str] | InstrumentedAttribute[str], *, correlated: bool = False
    ) -> None:
        self._customer_id = customer_id
        self._correlated = correlated
        self._built: dict[tuple[SupplierQuery, PolicyInForce], ColumnElement[bool]] = {}

    def __call__(self, query: SupplierQuery, policy: PolicyInForce) -> ColumnElement[bool]:
        key = (replace(query, now=self._KEY_TIME), policy)
        gate = self._built.get(key)
        if gate is None:
            if len(self._built) >= self._MAX:
                self._built.clear()
            # Built from the real query; its own time is overridden at execution anyway. Two requests may
            # race to build the same gate: both are equal, one is kept.
            gate = self._built[key] = permits(self._customer_id, query, policy, correlated=self._correlated)
        return gate


def permitted_customers_for(session: Session, query: SupplierQuery) -> Select[str]:
    """`permitted_customers` under the supplier's policy in force (as `decide_for` would read it)."""
    return permitted_customers(query, repository.policy_in_force(session, query.supplier_id, query.now))


def count_permitted(session: Session, query: SupplierQuery) -> int:
    subquery = permitted_customers_for(session, query).subquery()
    return int(session.scalar(select(func.count()).select_from(subquery)) or 0)


def _blocked_by_terms(decision_plan: DecisionPlan) -> Select[str]:
    """Customers a standing term denies (rule 2) or whose price floor the offer does not meet (rule 6)."""
    query = decision_plan.query
    asked = [c.value for c in query.ordered_categories]
    t = StandingTermRow
    matching: list[ColumnElement[bool]] = [
        and_(t.kind == repository.NEVER_PURPOSE, t.purpose == query.purpose.value),
        and_(t.kind == repository.NEVER_CATEGORY, t.category.in_(asked)),
        and_(
            t.kind == repository.MIN_PRICE,
            t.credits > query.offered_price,
            or_(t.category.is_(None), t.category.in_(asked)),
        ),
    ]
    if query.supplier_strikes > 0:
        matching.append(t.kind == repository.ONLY_UNSTRUCK_SUPPLIERS)
    return select(t.customer_id).where(or_(*matching))


def _at_level(
    level_column: ColumnElement[Any], by_level: dict[int, ColumnElement[Any]]
) -> ColumnElement[Any]:
    """The aggregate of the deciding level (`level_column`), picked among the per-level aggregates."""
    return case((level_column == 2, by_level[2]), (level_column == 1, by_level[1]), else_=by_level[0])


def _grouped(
    decision_plan: DecisionPlan,
    *,
    permitted: bool,
    of: ColumnElement[str] | InstrumentedAttribute[str] | None = None,
) -> Select[str]:
    """Customers whose in-force records permit every asked category (or, with `permitted=False`, deny one).

    One group per customer over the records of every asked category (and the ALL_CATEGORIES ones); each
    category reads its own records through conditional aggregates. A customer without records yields no
    group: the caller's `IN` / `EXISTS` (some category is opt-in) or `NOT IN` / `NOT EXISTS` (all are
    opt-out) then applies the defaults. With `of`, only that (outer) customer's records.
    """
    query = decision_plan.query
    r = aliased(ConsentRecordRow)
    signal = aliased(PrivacySignalRow)
    asked = [c.category.value for c in decision_plan.categories]

    in_force = or_(
        r.state.in_(_DENY_STATES),
        and_(
            r.state == _GIVEN,
            or_(
                r.supplier_id.is_(None),
                func.coalesce(r.policy_version, 0) >= decision_plan.consent_floor_version,
            ),
            or_(r.expires_at.is_(None), r.expires_at > now_param(query)),
        ),
    )
    every = [
        _category_permits(decision_plan, category_plan, r, signal)
        for category_plan in decision_plan.categories
    ]
    # Every part of `every` is non-NULL (see `_category_permits`), and FALSE AND NULL is FALSE: NOT is exact.
    permits = and_(*every)
    statement = (
        select(r.customer_id)
        .where(
            *([r.customer_id == of] if of is not None else []),
            r.purpose == query.purpose.value,
            or_(r.supplier_id == query.supplier_id, r.supplier_id.is_(None)),
            or_(r.category.in_(asked), r.category.is_(None)),
            in_force,
        )
        .group_by(r.customer_id)
    )
    if decision_plan.gpc_applies:
        statement = statement.outerjoin(signal, signal.customer_id == r.customer_id)
    return statement.having(permits if permitted else not_(permits))


def _category_permits(
    decision_plan: DecisionPlan,
    category_plan: CategoryPlan,
    r: type[ConsentRecordRow],
    signal: type[PrivacySignalRow],
) -> ColumnElement[bool]:
    """Within a customer's group: rules 4-6 settle this category as permitted (never NULL).

    The aggregates read only the records of this category or of ALL_CATEGORIES. An opt-out category the
    customer holds no such records for is permitted by default; an opt-in one is not.
    """
    query = decision_plan.query
    mine = or_(r.category == category_plan.category.value, r.category.is_(None))
    level = case((r.supplier_id.is_not(None), 1), else_=0) + case((r.category.is_not(None), 1), else_=0)
    is_grant = and_(mine, r.state == _GIVEN)
    is_deny = and_(mine, r.state.in_(_DENY_STATES))

    # Grants that survive rules 4c (GPC) and 4d (identity, sensitive data).
    survives: list[ColumnElement[bool]] = []
    if decision_plan.gpc_applies:
        gpc_active = and_(signal.gpc.is_(True), signal.recorded_at <= now_param(query))
        survives.append(
            or_(
                case((gpc_active, 1), else_=0) == 0,
                and_(r.supplier_id.is_not(None), r.updated_at > signal.recorded_at),
            )
        )
    if decision_plan.grant_must_name_supplier:
        survives.append(r.supplier_id.is_not(None))
    if category_plan.grant_must_name_category:
        survives.append(r.category.is_not(None))
    final = and_(is_grant, *survives) if survives else is_grant

    deny_level = func.max(case((is_deny, level)))
    grant_level = func.max(case((is_grant, level)))
    latest_deny = func.max(case((is_deny, r.updated_at)))
    latest_grant = _at_level(
        grant_level, {n: func.max(case((and_(is_grant, level == n), r.updated_at))) for n in LEVELS}
    )
    final_count = _at_level(
        grant_level, {n: func.sum(case((and_(final, level == n), 1), else_=0)) for n in LEVELS}
    )
    final_price = _at_level(
        grant_level, {n: func.max(case((and_(final, level == n), func.coalesce(r.price, 0)))) for n in LEVELS}
    )

    conditions: list[ColumnElement[bool]] = [
        grant_level.is_not(None),
        # 4a: the deciding (highest) level holds grants and no "no".
        or_(deny_level.is_(None), deny_level < grant_level),
        # 4b: no broader "no" recorded at or after the latest grant of the deciding level.
        or_(latest_deny.is_(None), latest_deny < latest_grant),
        # 6: the highest price asked on the grants relied on is met.
        func.coalesce(final_price, 0) <= query.offered_price,
    ]
    if not category_plan.default_permits:
        # 4c/4d then 5: without a surviving grant the opt-in default denies.
        conditions.append(final_count > 0)
        return and_(*conditions)
    # Opt-out: no record of this category at all means the default permits. Once grant_level is non-NULL
    # every condition is, so this OR is never NULL either.
    no_records = func.sum(case((mine, 1), else_=0)) == 0
    return or_(no_records, and_(*conditions))
