"""Decision table: every combination of the main rule inputs, against a plain restatement of the rules.

The expected outcome is computed by `expected()` below from the product rules as written in the
issue, in a few flat if-statements, without calling any of decide()'s helpers. One specific record
(this supplier, this category) is used, so specificity plays no part here (see test_decision_rules).

Dimensions: sensitivity x purpose kind x release kind x consent state x GPC x restriction x standing
term x expiry of the record = 2 x 2 x 2 x 7 x 2 x 2 x 3 x 2 = 1344 cases.
"""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from consent.decision import Reason
from consent.records import ConsentState
from consent.terms import MinPrice, NeverCategory, StandingTerm
from consent.vocabulary import Category, Purpose, ReleaseKind
from tests.unit.consent.factories import FLOOR, NOW, query, record, run

SENSITIVITY = {"ordinary": Category.INTERESTS, "sensitive": Category.HEALTH}
PURPOSE_KIND = {"ordinary": Purpose.MARKETING, "sale": Purpose.SELL_DATA_TO_THIRD_PARTIES}
RELEASE = {"ordinary": ReleaseKind.PSEUDONYMOUS_SLICE, "identity": ReleaseKind.IDENTITY_RELEASE}
# "invalidated" is a given record under a policy version below the supplier's consent floor.
CONSENT = ("none", "requested", "given", "refused", "withdrawn", "expired", "invalidated")
TERM = ("none", "never_category", "min_price_not_met")
EXPIRY = ("unexpired", "expired")

OFFER = 5
MIN_PRICE = 10
GRANT_AT = NOW - timedelta(days=10)
# GPC recorded after the grant, so it overrides it for sale purposes (later grants: test_decision_rules).
GPC_AT = NOW - timedelta(days=5)

CASES = list(
    itertools.product(SENSITIVITY, PURPOSE_KIND, RELEASE, CONSENT, (False, True), (False, True), TERM, EXPIRY)
)


def expected(
    sensitivity: str,
    purpose_kind: str,
    release: str,
    consent: str,
    gpc: bool,
    restricted: bool,
    term: str,
    expiry: str,
) -> tuple[bool, Reason]:
    """The product rules, restated independently of decide()."""
    if restricted:
        return False, Reason.PROCESSING_RESTRICTED
    if term == "never_category":
        return False, Reason.NEVER_CATEGORY
    if consent == "withdrawn":
        return False, Reason.CONSENT_WITHDRAWN
    if consent == "refused":
        return False, Reason.CONSENT_REFUSED
    # Only a given record, unexpired, at or above the floor counts as a grant.
    granted = consent == "given" and expiry == "unexpired"
    if granted and gpc and purpose_kind == "sale":
        return False, Reason.GPC_OPT_OUT
    opt_in = sensitivity == "sensitive" or purpose_kind == "sale" or release == "identity"
    if not granted and opt_in:
        return False, Reason.OPT_IN_REQUIRED
    if term == "min_price_not_met":
        return False, Reason.PRICE_TOO_LOW
    return True, Reason.PERMITTED_BY_CONSENT if granted else Reason.PERMITTED_BY_DEFAULT


@pytest.mark.parametrize(
    ("sensitivity", "purpose_kind", "release", "consent", "gpc", "restricted", "term", "expiry"),
    CASES,
    ids=["-".join(str(part) for part in case) for case in CASES],
)
def test_decision_table(
    sensitivity: str,
    purpose_kind: str,
    release: str,
    consent: str,
    gpc: bool,
    restricted: bool,
    term: str,
    expiry: str,
) -> None:
    category = SENSITIVITY[sensitivity]
    purpose = PURPOSE_KIND[purpose_kind]
    records = []
    if consent != "none":
        state = ConsentState.GIVEN if consent == "invalidated" else ConsentState(consent)
        records.append(
            record(
                purpose=purpose,
                category=category,
                state=state,
                at=GRANT_AT,
                policy_version=FLOOR - 1 if consent == "invalidated" else FLOOR,
                expires_at=NOW - timedelta(seconds=1) if expiry == "expired" else NOW + timedelta(days=1),
            )
        )
    terms: list[StandingTerm] = []
    if term == "never_category":
        terms.append(NeverCategory("t-never", category))
    elif term == "min_price_not_met":
        terms.append(MinPrice("t-price", MIN_PRICE, category))

    decision = run(
        query({category}, purpose=purpose, release_kind=RELEASE[release], offered_price=OFFER),
        records,
        terms,
        restricted=restricted,
        gpc=gpc,
        gpc_recorded_at=GPC_AT,
    )

    permitted, reason = expected(sensitivity, purpose_kind, release, consent, gpc, restricted, term, expiry)
    assert (decision.permitted, decision.reason) == (permitted, reason)
    (outcome,) = decision.outcomes
    assert (outcome.permitted, outcome.reason) == (permitted, reason)
    # A permit by consent relies on exactly the one record; a permit by default on none.
    if reason is Reason.PERMITTED_BY_CONSENT:
        assert decision.record_ids == (records[0].record_id,)
    if reason is Reason.PERMITTED_BY_DEFAULT:
        assert decision.record_ids == ()
