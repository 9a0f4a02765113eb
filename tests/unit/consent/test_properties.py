"""Hypothesis properties of decide() over random portfolios, terms, flags and queries."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consent.decision import (
    CustomerContext,
    Decision,
    DecisionRequest,
    Reason,
    SupplierQuery,
    decide,
)
from consent.errors import CustomerMismatch
from consent.plan import record_matters, term_matters
from consent.policy import PolicyInForce
from consent.records import (
    ALL_CATEGORIES,
    ALL_SUPPLIERS,
    CategoryScope,
    ConsentPortfolio,
    ConsentRecord,
    ConsentState,
    SupplierScope,
)
from consent.terms import (
    MinPrice,
    NeverCategory,
    NeverPurpose,
    OnlyUnstruckSuppliers,
    StandingTerm,
    StandingTerms,
)
from consent.vocabulary import SALE_OR_TRANSFER_PURPOSES, SENSITIVE_CATEGORIES, Category, Purpose, ReleaseKind
from tests.unit.consent.factories import CUSTOMER, FLOOR, NOW, OTHER_SUPPLIER, SUPPLIER, policy

CATEGORIES = [Category.INTERESTS, Category.ACTIVITY, Category.HEALTH, Category.FINANCES]
PURPOSES = [Purpose.MARKETING, Purpose.PERSONALISATION, Purpose.SELL_DATA_TO_THIRD_PARTIES]
SUPPLIERS = [SUPPLIER, OTHER_SUPPLIER, ALL_SUPPLIERS]

hours = st.integers(min_value=-400, max_value=0).map(lambda h: NOW + timedelta(hours=h))


@st.composite
def records(draw: st.DrawFn, likely_purpose: Purpose = Purpose.MARKETING) -> list[ConsentRecord]:
    out = []
    for i in range(draw(st.integers(min_value=0, max_value=25))):
        supplier = draw(st.sampled_from(SUPPLIERS))
        at = draw(hours)
        out.append(
            ConsentRecord(
                record_id=f"r{i}",
                customer_id=CUSTOMER,
                supplier=supplier,
                purpose=draw(st.sampled_from([likely_purpose, likely_purpose, *PURPOSES])),
                category=draw(st.sampled_from([*CATEGORIES, ALL_CATEGORIES])),
                state=draw(st.sampled_from(list(ConsentState))),
                created_at=at - timedelta(days=1),
                updated_at=at,
                policy_version=None if supplier is ALL_SUPPLIERS else draw(st.integers(1, 3)),
                expires_at=draw(st.none() | st.integers(-48, 48).map(lambda h: NOW + timedelta(hours=h))),
                price=draw(st.none() | st.integers(0, 20)),
            )
        )
    return out


@st.composite
def standing_terms(draw: st.DrawFn) -> list[StandingTerm]:
    # Weighted towards price floors and never-category: a never-purpose or strike term denies the
    # whole request, and too many of them would leave the record rules untested.
    kinds = draw(st.lists(st.sampled_from([0, 0, 1, 2, 2, 2, 3]), max_size=4))
    out: list[StandingTerm] = []
    for i, kind in enumerate(kinds):
        tid = f"t{i}"
        if kind == 0:
            out.append(NeverCategory(tid, draw(st.sampled_from(CATEGORIES))))
        elif kind == 1:
            out.append(NeverPurpose(tid, draw(st.sampled_from(PURPOSES))))
        elif kind == 2:
            out.append(MinPrice(tid, draw(st.integers(0, 20)), draw(st.none() | st.sampled_from(CATEGORIES))))
        else:
            out.append(OnlyUnstruckSuppliers(tid))
    return out


@dataclass
class Case:
    query: SupplierQuery
    customer: CustomerContext
    records: list[ConsentRecord]
    terms: list[StandingTerm]
    policy: PolicyInForce

    def decide(
        self, records: list[ConsentRecord] | None = None, terms: list[StandingTerm] | None = None
    ) -> Decision:
        return decide(
            DecisionRequest(self.customer, self.query),
            ConsentPortfolio.of(CUSTOMER, self.records if records is None else records),
            StandingTerms.of(CUSTOMER, self.terms if terms is None else terms),
            self.policy,
        )


@st.composite
def cases(draw: st.DrawFn, restricted: bool | None = False) -> Case:
    q = SupplierQuery(
        supplier_id=SUPPLIER,
        purpose=draw(st.sampled_from(PURPOSES)),
        categories=frozenset(draw(st.lists(st.sampled_from(CATEGORIES), min_size=1, max_size=3))),
        release_kind=draw(st.sampled_from(list(ReleaseKind))),
        now=NOW,
        supplier_strikes=draw(st.sampled_from([0, 0, 0, 1, 2])),
        offered_price=draw(st.integers(0, 20)),
    )
    gpc = draw(st.booleans())
    customer = CustomerContext(
        CUSTOMER,
        restricted=draw(st.sampled_from([False] * 9 + [True])) if restricted is None else restricted,
        gpc=gpc,
        gpc_recorded_at=draw(st.none() | hours) if gpc else None,
    )
    declared = draw(
        st.sampled_from([frozenset(CATEGORIES)] * 3) | st.frozensets(st.sampled_from(CATEGORIES), min_size=3)
    )
    # Mostly everything declared, so that most cases reach the consent records.
    purposes = draw(
        st.sampled_from([frozenset(PURPOSES)] * 4) | st.frozensets(st.sampled_from(PURPOSES), min_size=1)
    )
    pol = policy(purposes=purposes, categories=declared)
    return Case(q, customer, draw(records(q.purpose)), draw(standing_terms()), pol)


def _outcome(decision: Decision, category: Category):
    (outcome,) = [o for o in decision.outcomes if o.category is category]
    return outcome


def _summary(decision: Decision) -> list[tuple[Category, bool, Reason, int]]:
    return [(o.category, o.permitted, o.reason, o.asked_price) for o in decision.outcomes]


@given(cases(restricted=None), st.data())
def test_specific_withdrawal_always_denies(case: Case, data: st.DataObject) -> None:
    category = data.draw(st.sampled_from(sorted(case.query.categories)))
    withdrawal = ConsentRecord(
        "withdrawn",
        CUSTOMER,
        SUPPLIER,
        case.query.purpose,
        category,
        ConsentState.WITHDRAWN,
        NOW - timedelta(days=500),
        data.draw(hours),
    )
    decision = case.decide([*case.records, withdrawal])
    assert not _outcome(decision, category).permitted
    assert not decision.permitted


@given(cases(restricted=None), st.data())
def test_standing_never_always_denies(case: Case, data: st.DataObject) -> None:
    category = data.draw(st.sampled_from(sorted(case.query.categories)))
    decision = case.decide(terms=[*case.terms, NeverCategory("never-c", category)])
    assert not _outcome(decision, category).permitted
    decision = case.decide(terms=[*case.terms, NeverPurpose("never-p", case.query.purpose)])
    assert not any(o.permitted for o in decision.outcomes)


@given(cases(restricted=None))
def test_sensitive_needs_an_explicit_unexpired_grant_under_the_floor(case: Case) -> None:
    decision = case.decide()
    by_id = {r.record_id: r for r in case.records}
    for outcome in decision.outcomes:
        if outcome.category in SENSITIVE_CATEGORIES and outcome.permitted:
            assert any(
                (r := by_id[rid]).state is ConsentState.GIVEN
                and r.category is outcome.category
                and (r.expires_at is None or r.expires_at > NOW)
                and (r.supplier is ALL_SUPPLIERS or (r.policy_version or 0) >= FLOOR)
                for rid in outcome.record_ids
            )


@given(cases(restricted=True))
def test_restriction_always_denies(case: Case) -> None:
    decision = case.decide()
    assert not decision.permitted
    assert all(o.reason is Reason.PROCESSING_RESTRICTED and not o.permitted for o in decision.outcomes)


@given(cases(restricted=None))
def test_decision_relies_only_on_matching_records(case: Case) -> None:
    decision = case.decide()
    by_id = {r.record_id: r for r in case.records}
    for outcome in decision.outcomes:
        for rid in outcome.record_ids:
            r = by_id[rid]
            assert r.customer_id == CUSTOMER
            assert r.purpose is case.query.purpose
            assert r.supplier in (SUPPLIER, ALL_SUPPLIERS)
            assert r.category in (outcome.category, ALL_CATEGORIES)
    assert set(decision.record_ids) == {rid for o in decision.outcomes for rid in o.record_ids}


@given(cases(restricted=None))
def test_decide_is_deterministic_and_ignores_record_order(case: Case) -> None:
    first = case.decide()
    assert case.decide() == first
    reordered = case.decide(list(reversed(case.records)))
    assert _summary(reordered) == _summary(first)
    assert set(reordered.record_ids) == set(first.record_ids)


@given(cases(restricted=None))
def test_only_records_and_terms_that_matter_influence_the_decision(case: Case) -> None:
    """What the SQL builder may rely on: rows outside record_matters/term_matters change nothing."""
    kept_records = [r for r in case.records if record_matters(r, case.query)]
    kept_terms = [t for t in case.terms if term_matters(t, case.query)]
    assert _summary(case.decide(kept_records, kept_terms)) == _summary(case.decide())


# --- brute-force reference: scan every record, no index, no helpers of decide() ---------------------


def _in_force(r: ConsentRecord, now: datetime) -> bool:
    if r.state in (ConsentState.REFUSED, ConsentState.WITHDRAWN):
        return True
    if r.state is not ConsentState.GIVEN:
        return False
    unexpired = r.expires_at is None or now < r.expires_at
    current = r.supplier is ALL_SUPPLIERS or (r.policy_version or 0) >= FLOOR
    return unexpired and current


def _reference(case: Case) -> list[tuple[Category, bool, Reason]]:
    q, cust = case.query, case.customer
    out = []
    for c in sorted(q.categories, key=list(Category).index):
        reason = _reference_category(case, c)
        out.append((c, reason in (Reason.PERMITTED_BY_CONSENT, Reason.PERMITTED_BY_DEFAULT), reason))
    assert cust.customer_id == CUSTOMER
    return out


def _reference_category(case: Case, c: Category) -> Reason:
    q, cust, terms = case.query, case.customer, case.terms
    if cust.restricted:
        return Reason.PROCESSING_RESTRICTED
    if any(isinstance(t, NeverPurpose) and t.purpose is q.purpose for t in terms):
        return Reason.NEVER_PURPOSE
    if q.supplier_strikes > 0 and any(isinstance(t, OnlyUnstruckSuppliers) for t in terms):
        return Reason.SUPPLIER_HAS_STRIKES
    if any(isinstance(t, NeverCategory) and t.category is c for t in terms):
        return Reason.NEVER_CATEGORY
    if q.purpose not in case.policy.policy.purposes:
        return Reason.UNDECLARED_PURPOSE
    if c not in case.policy.policy.categories:
        return Reason.UNDECLARED_CATEGORY
    live = [
        r
        for r in case.records
        if r.purpose is q.purpose
        and r.supplier in (q.supplier_id, ALL_SUPPLIERS)
        and r.category in (c, ALL_CATEGORIES)
        and _in_force(r, q.now)
    ]

    def level(r: ConsentRecord) -> int:
        return (r.supplier is not ALL_SUPPLIERS) + (r.category is not ALL_CATEGORIES)

    def is_no(r: ConsentRecord) -> bool:
        return r.state is not ConsentState.GIVEN

    def no_reason(rs: list[ConsentRecord]) -> Reason:
        withdrawn = any(r.state is ConsentState.WITHDRAWN for r in rs)
        return Reason.CONSENT_WITHDRAWN if withdrawn else Reason.CONSENT_REFUSED

    grants: list[ConsentRecord] = []
    if live:
        top = max(level(r) for r in live)
        at_top = [r for r in live if level(r) == top]
        if any(is_no(r) for r in at_top):
            return no_reason([r for r in at_top if is_no(r)])
        latest = max(r.updated_at for r in at_top)
        later_no = [r for r in live if is_no(r) and level(r) < top and r.updated_at >= latest]
        if later_no:
            return no_reason(later_no)
        grants = at_top
        if cust.gpc and q.purpose in SALE_OR_TRANSFER_PURPOSES:
            grants = [
                g
                for g in grants
                if g.supplier == q.supplier_id
                and cust.gpc_recorded_at is not None
                and g.updated_at > cust.gpc_recorded_at
            ]
            if not grants:
                return Reason.GPC_OPT_OUT
        if q.release_kind is ReleaseKind.IDENTITY_RELEASE:
            grants = [g for g in grants if g.supplier == q.supplier_id]
        if c in SENSITIVE_CATEGORIES:
            grants = [g for g in grants if g.category is c]
    opt_in = (
        c in SENSITIVE_CATEGORIES
        or q.purpose in SALE_OR_TRANSFER_PURPOSES
        or q.release_kind is ReleaseKind.IDENTITY_RELEASE
    )
    if not grants and opt_in:
        return Reason.OPT_IN_REQUIRED
    asked = max([g.price or 0 for g in grants], default=0)
    for t in terms:
        if isinstance(t, MinPrice) and t.category in (None, c):
            asked = max(asked, t.credits)
    if q.offered_price < asked:
        return Reason.PRICE_TOO_LOW
    return Reason.PERMITTED_BY_CONSENT if grants else Reason.PERMITTED_BY_DEFAULT


@settings(max_examples=300)
@given(cases(restricted=None))
def test_decide_agrees_with_brute_force_reference(case: Case) -> None:
    decision = case.decide()
    assert [(o.category, o.permitted, o.reason) for o in decision.outcomes] == _reference(case)
    assert decision.permitted == all(o.permitted for o in decision.outcomes)


# --- specificity against the broadest records, and other customers' inputs ---------------------------


@given(
    st.lists(st.tuples(st.sampled_from(list(ConsentState)), hours), max_size=6),
    st.sampled_from([(SUPPLIER, ALL_CATEGORIES), (ALL_SUPPLIERS, Category.INTERESTS)]),
    st.integers(min_value=-1, max_value=48),
)
def test_one_wildcard_grant_decides_over_records_of_everything_by_their_timing(
    broad: list[tuple[ConsentState, datetime]],
    scope: tuple[SupplierScope, CategoryScope],
    grant_offset_hours: int,
) -> None:
    """(ALL_SUPPLIERS, ALL_CATEGORIES) records lose to a more specific grant unless a "no" among them is
    at least as recent as the grant (rules 4a and 4b)."""
    everything = [
        ConsentRecord(
            f"all-{i}",
            CUSTOMER,
            ALL_SUPPLIERS,
            Purpose.MARKETING,
            ALL_CATEGORIES,
            state,
            at - timedelta(days=1),
            at,
        )
        for i, (state, at) in enumerate(broad)
    ]
    latest_broad = max((at for _, at in broad), default=NOW - timedelta(days=30))
    grant_at = latest_broad + timedelta(hours=grant_offset_hours)
    supplier, category = scope
    grant = ConsentRecord(
        "grant",
        CUSTOMER,
        supplier,
        Purpose.MARKETING,
        category,
        ConsentState.GIVEN,
        grant_at - timedelta(days=1),
        grant_at,
        policy_version=None if supplier is ALL_SUPPLIERS else FLOOR,
    )
    interests = frozenset({Category.INTERESTS})
    q = SupplierQuery(SUPPLIER, Purpose.MARKETING, interests, ReleaseKind.PSEUDONYMOUS_SLICE, NOW)
    decision = decide(
        DecisionRequest(CustomerContext(CUSTOMER), q),
        ConsentPortfolio.of(CUSTOMER, [*everything, grant]),
        StandingTerms.none(CUSTOMER),
        policy(),
    )
    cancelling = {
        r.record_id
        for r in everything
        if r.state in (ConsentState.REFUSED, ConsentState.WITHDRAWN) and r.updated_at >= grant_at
    }
    if cancelling:
        assert not decision.permitted
        assert set(decision.record_ids) == cancelling
    else:
        assert decision.permitted
        assert decision.reason is Reason.PERMITTED_BY_CONSENT
        assert decision.record_ids == ("grant",)


OTHER_CUSTOMER = "cust-2"


@given(cases(restricted=None), st.sampled_from(["consents", "terms", "both"]))
def test_another_customers_consents_or_terms_are_refused_whatever_they_hold(case: Case, swap: str) -> None:
    theirs = [replace(r, customer_id=OTHER_CUSTOMER) for r in case.records]
    consents = (
        ConsentPortfolio.of(OTHER_CUSTOMER, theirs)
        if swap in ("consents", "both")
        else ConsentPortfolio.of(CUSTOMER, case.records)
    )
    terms = StandingTerms.of(OTHER_CUSTOMER if swap in ("terms", "both") else CUSTOMER, case.terms)
    with pytest.raises(CustomerMismatch):
        decide(DecisionRequest(case.customer, case.query), consents, terms, case.policy)
