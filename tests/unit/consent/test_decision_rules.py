"""Single rules of decide(): specificity, deny-wins, recency, GPC timing, declared use, price, shape."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from consent.decision import (
    REASON_TEXT,
    CustomerContext,
    DecisionRequest,
    Reason,
    decide,
    default_permits,
)
from consent.errors import CustomerMismatch, InvalidRecord
from consent.plan import plan, record_matters, term_matters
from consent.records import ALL_CATEGORIES, ALL_SUPPLIERS, ConsentPortfolio, ConsentState
from consent.terms import MinPrice, NeverCategory, NeverPurpose, OnlyUnstruckSuppliers, StandingTerms
from consent.vocabulary import Category, Purpose, ReleaseKind
from tests.unit.consent.factories import CUSTOMER, NOW, OTHER_SUPPLIER, SUPPLIER, policy, query, record, run

G, R, W = ConsentState.GIVEN, ConsentState.REFUSED, ConsentState.WITHDRAWN
HEALTH, INTERESTS = Category.HEALTH, Category.INTERESTS
SELL = Purpose.SELL_DATA_TO_THIRD_PARTIES
EARLY, LATE = NOW - timedelta(days=20), NOW - timedelta(days=2)


# --- specificity and deny-wins ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wildcard_supplier", "wildcard_category"),
    [(ALL_SUPPLIERS, INTERESTS), (SUPPLIER, ALL_CATEGORIES), (ALL_SUPPLIERS, ALL_CATEGORIES)],
)
def test_specific_grant_made_after_a_wildcard_refusal_is_an_exception(
    wildcard_supplier, wildcard_category
) -> None:
    refusal = record(supplier=wildcard_supplier, category=wildcard_category, state=R, at=EARLY)
    grant = record(state=G, at=LATE, price=3)
    decision = run(query({INTERESTS}, offered_price=3), [refusal, grant])
    assert decision.permitted
    assert decision.reason is Reason.PERMITTED_BY_CONSENT
    assert decision.record_ids == (grant.record_id,)
    assert decision.asked_price == 3


@pytest.mark.parametrize(
    ("wildcard_supplier", "wildcard_category"),
    [(ALL_SUPPLIERS, INTERESTS), (SUPPLIER, ALL_CATEGORIES), (ALL_SUPPLIERS, ALL_CATEGORIES)],
)
def test_specific_refusal_beats_wildcard_grant(wildcard_supplier, wildcard_category) -> None:
    grant = record(supplier=wildcard_supplier, category=wildcard_category, state=G, at=LATE)
    refusal = record(state=R, at=EARLY)
    decision = run(query({INTERESTS}), [grant, refusal])
    assert not decision.permitted
    assert decision.reason is Reason.CONSENT_REFUSED
    assert decision.record_ids == (refusal.record_id,)


def test_specific_grant_beats_wildcard_grant_for_price() -> None:
    # The specific grant decides, so its (lower) price is the one asked.
    broad = record(supplier=ALL_SUPPLIERS, category=ALL_CATEGORIES, state=G, price=50)
    specific = record(state=G, price=5)
    decision = run(query({INTERESTS}, offered_price=5), [broad, specific])
    assert decision.permitted
    assert decision.asked_price == 5
    assert decision.record_ids == (specific.record_id,)


def test_later_broad_withdrawal_cancels_earlier_specific_grant() -> None:
    grant = record(state=G, at=EARLY)
    withdrawal = record(supplier=ALL_SUPPLIERS, category=ALL_CATEGORIES, state=W, at=LATE)
    decision = run(query({INTERESTS}), [grant, withdrawal])
    assert not decision.permitted
    assert decision.reason is Reason.CONSENT_WITHDRAWN
    assert decision.record_ids == (withdrawal.record_id,)


def test_broad_withdrawal_at_the_same_instant_as_the_grant_wins() -> None:
    decision = run(query(), [record(state=G, at=LATE), record(supplier=ALL_SUPPLIERS, state=W, at=LATE)])
    assert decision.reason is Reason.CONSENT_WITHDRAWN


def test_later_broad_grant_does_not_undo_specific_refusal() -> None:
    refusal = record(state=R, at=EARLY)
    grant = record(supplier=ALL_SUPPLIERS, category=ALL_CATEGORIES, state=G, at=LATE)
    assert run(query(), [refusal, grant]).reason is Reason.CONSENT_REFUSED


@pytest.mark.parametrize(
    ("supplier", "category"),
    [
        (SUPPLIER, INTERESTS),
        (SUPPLIER, ALL_CATEGORIES),
        (ALL_SUPPLIERS, INTERESTS),
        (ALL_SUPPLIERS, ALL_CATEGORIES),
    ],
)
def test_deny_wins_among_equally_specific_whatever_the_order(supplier, category) -> None:
    grant = record(supplier=supplier, category=category, state=G, at=LATE)
    refusal = record(supplier=supplier, category=category, state=R, at=EARLY)
    for records in ([grant, refusal], [refusal, grant]):
        decision = run(query(), records)
        assert not decision.permitted
        assert decision.reason is Reason.CONSENT_REFUSED


def test_one_wildcard_each_way_are_equally_specific_so_deny_wins() -> None:
    supplier_wide = record(supplier=SUPPLIER, category=ALL_CATEGORIES, state=G, at=LATE)
    category_wide = record(supplier=ALL_SUPPLIERS, category=INTERESTS, state=R, at=EARLY)
    assert run(query(), [supplier_wide, category_wide]).reason is Reason.CONSENT_REFUSED


def test_withdrawn_reported_over_refused_among_equals() -> None:
    records = [record(state=R), record(state=W)]
    assert run(query(), records).reason is Reason.CONSENT_WITHDRAWN


# A record with one wildcard, (this supplier, every category) or (every supplier, this category).
ONE_WILDCARD = pytest.mark.parametrize(
    ("supplier", "category"), [(SUPPLIER, ALL_CATEGORIES), (ALL_SUPPLIERS, INTERESTS)]
)


@ONE_WILDCARD
@pytest.mark.parametrize("no", [R, W])
def test_one_wildcard_grant_after_a_refusal_of_everything_is_an_exception(supplier, category, no) -> None:
    # Rule 4a: one wildcard is more specific than (ALL_SUPPLIERS, ALL_CATEGORIES), so the grant decides;
    # rule 4b does not override it because the broad "no" came first.
    everything = record(supplier=ALL_SUPPLIERS, category=ALL_CATEGORIES, state=no, at=EARLY)
    grant = record(supplier=supplier, category=category, state=G, at=LATE, price=4)
    for records in ([everything, grant], [grant, everything]):
        decision = run(query({INTERESTS}, offered_price=4), records)
        assert decision.permitted
        assert decision.reason is Reason.PERMITTED_BY_CONSENT
        assert decision.record_ids == (grant.record_id,)
        assert decision.asked_price == 4


@ONE_WILDCARD
@pytest.mark.parametrize(("no", "reason"), [(R, Reason.CONSENT_REFUSED), (W, Reason.CONSENT_WITHDRAWN)])
@pytest.mark.parametrize("no_at", [LATE, EARLY], ids=["later", "same-instant"])
def test_refusal_of_everything_at_or_after_a_one_wildcard_grant_cancels_it(
    supplier, category, no, reason, no_at
) -> None:
    # Rule 4b: a broad "no" recorded when or after the exception was made cancels it.
    grant = record(supplier=supplier, category=category, state=G, at=EARLY)
    everything = record(supplier=ALL_SUPPLIERS, category=ALL_CATEGORIES, state=no, at=no_at)
    decision = run(query({INTERESTS}), [grant, everything])
    assert not decision.permitted
    assert decision.reason is reason
    assert decision.record_ids == (everything.record_id,)


def test_refusal_of_everything_does_not_reach_a_category_the_grant_does_not_cover() -> None:
    # The one-wildcard exception is for INTERESTS only; ACTIVITY is still under the refusal of everything.
    everything = record(supplier=ALL_SUPPLIERS, category=ALL_CATEGORIES, state=R, at=EARLY)
    grant = record(supplier=ALL_SUPPLIERS, category=INTERESTS, state=G, at=LATE)
    decision = run(query({INTERESTS, Category.ACTIVITY}), [everything, grant])
    assert {o.category: o.reason for o in decision.outcomes} == {
        INTERESTS: Reason.PERMITTED_BY_CONSENT,
        Category.ACTIVITY: Reason.CONSENT_REFUSED,
    }


# --- two grants at the same level --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ((SUPPLIER, INTERESTS), (SUPPLIER, INTERESTS)),
        ((SUPPLIER, ALL_CATEGORIES), (ALL_SUPPLIERS, INTERESTS)),
        ((ALL_SUPPLIERS, ALL_CATEGORIES), (ALL_SUPPLIERS, ALL_CATEGORIES)),
    ],
)
def test_two_grants_at_the_same_level_are_both_relied_on_and_the_higher_price_is_asked(first, second) -> None:
    cheap = record(supplier=first[0], category=first[1], state=G, at=EARLY, price=3)
    dear = record(supplier=second[0], category=second[1], state=G, at=LATE, price=8)
    for records in ([cheap, dear], [dear, cheap]):
        low = run(query(offered_price=7), records)
        assert (low.permitted, low.reason, low.asked_price) == (False, Reason.PRICE_TOO_LOW, 8)
        decision = run(query(offered_price=8), records)
        assert decision.permitted
        assert decision.reason is Reason.PERMITTED_BY_CONSENT
        assert set(decision.record_ids) == {cheap.record_id, dear.record_id}


def test_a_broad_refusal_between_two_equal_grants_is_overridden_by_the_later_one() -> None:
    # Rule 4b compares the broad "no" with the *latest* grant of the deciding level.
    before = record(supplier=SUPPLIER, category=ALL_CATEGORIES, state=G, at=EARLY)
    after = record(supplier=ALL_SUPPLIERS, category=INTERESTS, state=G, at=LATE)
    between = record(supplier=ALL_SUPPLIERS, category=ALL_CATEGORIES, state=R, at=NOW - timedelta(days=10))
    for records in ([before, after, between], [between, after, before]):
        decision = run(query(), records)
        assert decision.permitted
        assert set(decision.record_ids) == {before.record_id, after.record_id}
    # Once the refusal is as late as the latest grant, it cancels both.
    last = record(supplier=ALL_SUPPLIERS, category=ALL_CATEGORIES, state=R, at=LATE)
    assert run(query(), [before, after, last]).reason is Reason.CONSENT_REFUSED


def test_of_two_equal_grants_only_the_one_naming_the_category_opens_sensitive_data() -> None:
    supplier_wide = record(supplier=SUPPLIER, category=ALL_CATEGORIES, state=G, price=9)
    category_named = record(supplier=ALL_SUPPLIERS, category=HEALTH, state=G, price=2)
    decision = run(query({HEALTH}, offered_price=2), [supplier_wide, category_named])
    assert decision.permitted
    assert decision.record_ids == (category_named.record_id,)
    assert decision.asked_price == 2  # the set-aside grant's price is not asked


def test_of_two_equal_grants_only_the_one_naming_the_supplier_releases_identity() -> None:
    q = query({INTERESTS}, release_kind=ReleaseKind.IDENTITY_RELEASE, offered_price=2)
    supplier_named = record(supplier=SUPPLIER, category=ALL_CATEGORIES, state=G, price=2)
    all_suppliers = record(supplier=ALL_SUPPLIERS, category=INTERESTS, state=G, price=9)
    decision = run(q, [all_suppliers, supplier_named])
    assert decision.permitted
    assert decision.record_ids == (supplier_named.record_id,)
    assert decision.asked_price == 2


def test_of_two_equal_grants_only_the_supplier_one_made_after_gpc_survives_it() -> None:
    signal = NOW - timedelta(days=10)
    older = record(purpose=SELL, state=G, at=EARLY, price=9)
    newer = record(purpose=SELL, state=G, at=LATE, price=2)
    decision = run(query(purpose=SELL, offered_price=2), [older, newer], gpc=True, gpc_recorded_at=signal)
    assert decision.permitted
    assert decision.record_ids == (newer.record_id,)
    assert decision.asked_price == 2


def test_an_expired_grant_beside_a_live_one_at_the_same_level_is_not_relied_on() -> None:
    lapsed = record(state=G, expires_at=NOW, price=9)
    live = record(state=G, price=1)
    decision = run(query(offered_price=1), [lapsed, live])
    assert decision.permitted
    assert decision.record_ids == (live.record_id,)


@pytest.mark.parametrize("state", [ConsentState.REQUESTED, ConsentState.EXPIRED])
def test_records_not_in_force_do_not_block_a_broader_grant(state) -> None:
    lapsed = record(purpose=SELL, category=HEALTH, state=state)
    broad = record(supplier=ALL_SUPPLIERS, purpose=SELL, category=HEALTH, state=G)
    decision = run(query({HEALTH}, purpose=SELL), [lapsed, broad])
    assert decision.permitted
    assert decision.record_ids == (broad.record_id,)


def test_other_suppliers_records_are_ignored() -> None:
    other = record(supplier=OTHER_SUPPLIER, category=HEALTH, state=G)
    decision = run(query({HEALTH}), [other])
    assert decision.reason is Reason.OPT_IN_REQUIRED
    assert decision.record_ids == ()


def test_other_purposes_records_are_ignored() -> None:
    refusal = record(purpose=Purpose.PERSONALISATION, state=R)
    assert run(query(), [refusal]).reason is Reason.PERMITTED_BY_DEFAULT


# --- opt-in needs grants that name what they open ---------------------------------------------------


def test_all_categories_grant_does_not_open_sensitive_data() -> None:
    broad = record(category=ALL_CATEGORIES, state=G)
    decision = run(query({HEALTH, INTERESTS}), [broad])
    assert not decision.permitted
    assert decision.reason is Reason.OPT_IN_REQUIRED
    by_category = {o.category: o for o in decision.outcomes}
    assert by_category[INTERESTS].permitted
    assert by_category[HEALTH].reason is Reason.OPT_IN_REQUIRED


def test_all_suppliers_grant_opens_sensitive_data_when_naming_the_category() -> None:
    assert run(query({HEALTH}), [record(supplier=ALL_SUPPLIERS, category=HEALTH, state=G)]).permitted


def test_identity_release_needs_a_grant_naming_the_supplier() -> None:
    q = query({Category.IDENTITY}, release_kind=ReleaseKind.IDENTITY_RELEASE)
    broad = record(supplier=ALL_SUPPLIERS, category=Category.IDENTITY, state=G)
    assert run(q, [broad]).reason is Reason.OPT_IN_REQUIRED
    assert run(q, [broad, record(category=ALL_CATEGORIES, state=G)]).reason is Reason.PERMITTED_BY_CONSENT


# --- GPC ---------------------------------------------------------------------------------------------


def test_gpc_does_not_touch_ordinary_purposes() -> None:
    decision = run(query(), [record(state=G, at=EARLY)], gpc=True, gpc_recorded_at=LATE)
    assert decision.reason is Reason.PERMITTED_BY_CONSENT


def test_grant_for_this_supplier_after_gpc_survives_it() -> None:
    grant = record(purpose=SELL, state=G, at=LATE)
    decision = run(query(purpose=SELL), [grant], gpc=True, gpc_recorded_at=EARLY)
    assert decision.permitted


def test_supplier_wide_grant_after_gpc_survives_it() -> None:
    grant = record(purpose=SELL, category=ALL_CATEGORIES, state=G, at=LATE)
    assert run(query(purpose=SELL), [grant], gpc=True, gpc_recorded_at=EARLY).permitted


def test_grant_to_all_suppliers_after_gpc_does_not_survive_it() -> None:
    grant = record(supplier=ALL_SUPPLIERS, purpose=SELL, state=G, at=LATE)
    decision = run(query(purpose=SELL), [grant], gpc=True, gpc_recorded_at=EARLY)
    assert decision.reason is Reason.GPC_OPT_OUT


def test_grant_at_the_instant_of_gpc_does_not_survive_it() -> None:
    grant = record(purpose=SELL, state=G, at=LATE)
    assert run(query(purpose=SELL), [grant], gpc=True, gpc_recorded_at=LATE).reason is Reason.GPC_OPT_OUT


def test_gpc_without_a_recorded_time_overrides_every_grant() -> None:
    grant = record(purpose=SELL, state=G, at=LATE)
    assert run(query(purpose=SELL), [grant], gpc=True, gpc_recorded_at=None).reason is Reason.GPC_OPT_OUT


@pytest.mark.parametrize("purpose", [Purpose.SELL_INSIGHTS_FROM_DATA, Purpose.SHARE_DATA_WITH_THIRD_PARTIES])
def test_gpc_covers_every_sale_or_transfer_purpose(purpose) -> None:
    grant = record(purpose=purpose, state=G, at=EARLY)
    assert run(query(purpose=purpose), [grant], gpc=True, gpc_recorded_at=LATE).reason is Reason.GPC_OPT_OUT


# --- policy floor, declared use ----------------------------------------------------------------------


def test_grant_at_the_floor_counts_and_below_it_is_invalidated() -> None:
    at_floor = record(category=HEALTH, state=G, policy_version=2)
    below = record(category=HEALTH, state=G, policy_version=1)
    assert run(query({HEALTH}), [at_floor]).permitted
    assert run(query({HEALTH}), [below]).reason is Reason.OPT_IN_REQUIRED


def test_refusal_under_an_old_policy_version_still_denies() -> None:
    refusal = record(state=R, policy_version=1)
    assert run(query(), [refusal]).reason is Reason.CONSENT_REFUSED


@pytest.mark.parametrize("invalidated_first", [True, False])
def test_a_grant_invalidated_by_the_floor_hides_nothing_recorded_beside_it(invalidated_first: bool) -> None:
    # The same scope holds an old grant, set aside by the floor, and a newer record: that one decides.
    old = record(category=HEALTH, state=G, policy_version=1, at=EARLY)
    for newer, reason in (
        (record(category=HEALTH, state=G, policy_version=3, at=LATE), Reason.PERMITTED_BY_CONSENT),
        (record(category=HEALTH, state=R, policy_version=3, at=LATE), Reason.CONSENT_REFUSED),
    ):
        records = [old, newer] if invalidated_first else [newer, old]
        decision = run(query({HEALTH}), records)
        assert (decision.reason, decision.record_ids) == (reason, (newer.record_id,))


def test_undeclared_purpose_denies_every_category() -> None:
    pol = policy(purposes=frozenset({Purpose.PERSONALISATION}))
    decision = run(query({INTERESTS, Category.ACTIVITY}), [record(state=G)], pol=pol)
    assert decision.reason is Reason.UNDECLARED_PURPOSE
    assert all(o.reason is Reason.UNDECLARED_PURPOSE for o in decision.outcomes)


def test_undeclared_category_denies_that_category_only() -> None:
    pol = policy(categories=frozenset({INTERESTS}))
    decision = run(query({INTERESTS, Category.ACTIVITY}), [], pol=pol)
    assert not decision.permitted
    assert decision.reason is Reason.UNDECLARED_CATEGORY
    by_category = {o.category: o.reason for o in decision.outcomes}
    assert by_category == {
        INTERESTS: Reason.PERMITTED_BY_DEFAULT,
        Category.ACTIVITY: Reason.UNDECLARED_CATEGORY,
    }
    assert [o.permitted for o in decision.outcomes] == [True, False]  # booleans, as the API shows them


def test_never_category_term_precedes_undeclared_and_undeclared_precedes_records() -> None:
    pol = policy(categories=frozenset({INTERESTS}))
    terms = [NeverCategory("t1", HEALTH)]
    decision = run(
        query({HEALTH, Category.ACTIVITY}), [record(category=Category.ACTIVITY, state=W)], terms, pol=pol
    )
    by_category = {o.category: o.reason for o in decision.outcomes}
    assert by_category == {HEALTH: Reason.NEVER_CATEGORY, Category.ACTIVITY: Reason.UNDECLARED_CATEGORY}
    assert decision.reason is Reason.NEVER_CATEGORY
    assert decision.term_ids == ("t1",)


# --- standing terms and price ------------------------------------------------------------------------


def test_never_purpose_beats_a_grant() -> None:
    decision = run(query(), [record(state=G)], [NeverPurpose("t1", Purpose.MARKETING)])
    assert decision.reason is Reason.NEVER_PURPOSE
    assert decision.term_ids == ("t1",)


def test_only_unstruck_suppliers() -> None:
    terms = [OnlyUnstruckSuppliers("t1")]
    struck = run(query(strikes=1), [record(state=G)], terms)
    assert (struck.reason, struck.term_ids) == (Reason.SUPPLIER_HAS_STRIKES, ("t1",))  # the term relied on
    assert [o.permitted for o in struck.outcomes] == [False]
    assert run(query(strikes=0), [record(state=G)], terms).permitted
    assert run(query(strikes=3), [record(state=G)]).permitted


def test_price_on_the_grant_is_asked() -> None:
    grant = record(state=G, price=7)
    low = run(query(offered_price=6), [grant])
    assert (low.permitted, low.reason, low.asked_price) == (False, Reason.PRICE_TOO_LOW, 7)
    assert low.record_ids == (grant.record_id,)
    assert run(query(offered_price=7), [grant]).permitted


def test_highest_of_grant_price_and_term_floors_is_asked() -> None:
    terms = [MinPrice("everywhere", 4), MinPrice("health", 12, HEALTH)]
    grant = record(category=HEALTH, state=G, price=9)
    assert run(query({HEALTH}, offered_price=11), [grant], terms).reason is Reason.PRICE_TOO_LOW
    decision = run(query({HEALTH, INTERESTS}, offered_price=12), [grant], terms)
    assert decision.permitted
    assert decision.asked_price == 12
    assert {o.category: o.asked_price for o in decision.outcomes} == {HEALTH: 12, INTERESTS: 4}


def test_min_price_term_applies_to_default_permits() -> None:
    assert run(query(offered_price=3), [], [MinPrice("t", 4)]).reason is Reason.PRICE_TOO_LOW


# --- output shape and guards -------------------------------------------------------------------------


def test_outcomes_are_in_vocabulary_order_and_overall_reason_follows_precedence() -> None:
    records = [record(category=Category.PURCHASES, state=R)]
    decision = run(query({Category.PURCHASES, HEALTH, INTERESTS}), records)
    assert [o.category for o in decision.outcomes] == [INTERESTS, Category.PURCHASES, HEALTH]
    assert decision.reason is Reason.CONSENT_REFUSED  # refusal (rule 4) comes before opt-in (rule 5)
    assert "purchases" in decision.text


def test_the_text_gives_the_reason_and_the_categories_it_denies() -> None:
    records = [record(category=c, state=R) for c in (INTERESTS, Category.PURCHASES)]
    denied = run(query({INTERESTS, Category.PURCHASES, HEALTH}), records)
    assert denied.text == f"{REASON_TEXT[Reason.CONSENT_REFUSED]} (interests, purchases)"
    assert run(query(), []).text == REASON_TEXT[Reason.PERMITTED_BY_DEFAULT]
    assert run(query(), [record(state=G)]).text == REASON_TEXT[Reason.PERMITTED_BY_CONSENT]


def test_nothing_is_asked_for_data_without_a_price() -> None:
    decision = run(query({INTERESTS, Category.PURCHASES}), [record(state=G)])
    assert decision.permitted
    assert decision.asked_price == 0


def test_permit_needs_every_category() -> None:
    decision = run(query({INTERESTS, HEALTH}), [])
    assert not decision.permitted
    assert [o.permitted for o in decision.outcomes] == [True, False]


def test_mixing_customers_is_an_error() -> None:
    q = query()
    with pytest.raises(CustomerMismatch):
        ConsentPortfolio.of(CUSTOMER, [record(customer_id="someone-else")])
    with pytest.raises(
        CustomerMismatch, match=r"^consents, terms and request must all be of the same customer$"
    ):
        decide(
            DecisionRequest(CustomerContext("someone-else"), q),
            ConsentPortfolio.of(CUSTOMER, []),
            StandingTerms.none(CUSTOMER),
            policy(),
        )


OTHER_CUSTOMER = "cust-2"


@pytest.mark.parametrize(
    ("consents_of", "terms_of"),
    [(OTHER_CUSTOMER, CUSTOMER), (CUSTOMER, OTHER_CUSTOMER), (OTHER_CUSTOMER, OTHER_CUSTOMER)],
    ids=["their-consents", "their-terms", "both"],
)
def test_deciding_for_one_customer_with_anothers_consents_or_terms_is_refused(consents_of, terms_of) -> None:
    # Each of the two inputs is checked on its own: a decision for A that quietly used B's grant (or
    # ignored A's standing "never") would release A's data on B's say-so.
    their_grant = record(customer_id=consents_of, category=HEALTH, state=G)
    consents = ConsentPortfolio.of(consents_of, [their_grant])
    terms = StandingTerms.of(terms_of, [MinPrice("their-floor", 0)])
    with pytest.raises(CustomerMismatch):
        decide(DecisionRequest(CustomerContext(CUSTOMER), query({HEALTH})), consents, terms, policy())


def test_a_portfolio_cannot_smuggle_in_another_customers_record() -> None:
    mine = record(state=R)
    theirs = record(customer_id=OTHER_CUSTOMER, state=G)
    with pytest.raises(CustomerMismatch, match=theirs.record_id):
        ConsentPortfolio.of(CUSTOMER, [mine, theirs])


def test_policy_of_another_supplier_is_an_error() -> None:
    with pytest.raises(InvalidRecord, match=r"^the policy in force is not the requesting supplier's$"):
        run(query(), pol=policy(supplier=OTHER_SUPPLIER))


@pytest.mark.parametrize(
    ("malformed", "message"),
    [
        (lambda: query(set()), "a request must ask for at least one data category"),
        (lambda: query(supplier=""), "supplier_id must be non-empty"),
        (lambda: query(strikes=-1), "strikes and offered price are non-negative"),
        (lambda: query(offered_price=-1), "strikes and offered price are non-negative"),
        (lambda: query(now=NOW.replace(tzinfo=None)), r"now must be timezone-aware \(UTC\)"),
    ],
)
def test_a_malformed_request_is_refused_saying_what_is_wrong(malformed: Any, message: str) -> None:
    with pytest.raises(InvalidRecord, match=f"^{message}$"):
        malformed()


# --- the set-based description ------------------------------------------------------------------------


@pytest.mark.parametrize("category", list(Category))
@pytest.mark.parametrize("purpose", list(Purpose))
@pytest.mark.parametrize("release_kind", list(ReleaseKind))
def test_default_permits_matches_decide_without_records(category, purpose, release_kind) -> None:
    decision = run(query({category}, purpose=purpose, release_kind=release_kind), [])
    assert decision.permitted is default_permits(category, purpose, release_kind)


def test_plan_describes_the_query() -> None:
    q = query({HEALTH, INTERESTS}, purpose=SELL, release_kind=ReleaseKind.IDENTITY_RELEASE)
    p = plan(q, policy(categories=frozenset({INTERESTS})))
    assert p.purpose_declared
    assert p.gpc_applies
    assert p.grant_must_name_supplier
    assert p.consent_floor_version == 2
    interests, health = p.categories
    assert (interests.category, interests.declared, interests.grant_must_name_category) == (
        INTERESTS,
        True,
        False,
    )
    assert (health.category, health.declared, health.grant_must_name_category) == (HEALTH, False, True)
    assert not interests.default_permits
    assert [(s.supplier, s.category, s.level) for s in health.scopes] == [
        (SUPPLIER, HEALTH, 2),
        (SUPPLIER, ALL_CATEGORIES, 1),
        (ALL_SUPPLIERS, HEALTH, 1),
        (ALL_SUPPLIERS, ALL_CATEGORIES, 0),
    ]


def test_record_and_term_matters() -> None:
    q = query({INTERESTS}, offered_price=5, strikes=0)
    assert record_matters(record(), q)
    assert record_matters(record(supplier=ALL_SUPPLIERS, category=ALL_CATEGORIES), q)
    assert not record_matters(record(supplier=OTHER_SUPPLIER), q)
    assert not record_matters(record(category=HEALTH), q)
    assert not record_matters(record(purpose=SELL), q)
    assert term_matters(NeverCategory("a", INTERESTS), q)
    assert not term_matters(NeverCategory("a", HEALTH), q)
    assert term_matters(NeverPurpose("b", Purpose.MARKETING), q)
    assert not term_matters(NeverPurpose("b", SELL), q)
    assert not term_matters(OnlyUnstruckSuppliers("c"), q)
    assert term_matters(OnlyUnstruckSuppliers("c"), query(strikes=1))
    assert term_matters(MinPrice("d", 6), q)
    assert term_matters(MinPrice("d", 5), q)  # met, but it still sets the asked price
    assert not term_matters(MinPrice("d", 0), q)
    assert not term_matters(MinPrice("d", 6, HEALTH), q)


def test_grant_stops_counting_at_its_expiry_instant() -> None:
    grant = record(category=HEALTH, state=G, expires_at=NOW)
    assert run(query({HEALTH}), [grant]).reason is Reason.OPT_IN_REQUIRED
    assert run(query({HEALTH}, now=NOW - timedelta(microseconds=1)), [grant]).permitted
