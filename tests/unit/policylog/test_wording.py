"""The customer's log reads in plain words: one sentence per entry kind, with labels instead of keys."""

from __future__ import annotations

import re
from typing import Any

import pytest

from consent.decision import Reason
from consent.vocabulary import ReleaseKind
from infomediary.consents.terms import KINDS as TERM_KINDS
from infomediary.database import utcnow
from infomediary.policylog import kinds, wording
from infomediary.policylog.errors import EntryError

AT = "2026-06-01T12:00:00.000000Z"
WHEN = "On 1 June 2026 at 12:00 UTC"
NAMES = {"sup_acme": "Acme"}
PSEUDONYM = "ab" * 32

# One entry of every kind, as the services write them, and the sentence the customer reads.
CASES: dict[str, tuple[dict[str, Any], str]] = {
    kinds.CONSENT_GRANTED: (
        {
            "supplier_id": "sup_acme",
            "purpose": "marketing",
            "categories": ["interests"],
            "details": {
                "record_id": "con_1",
                "actor": "customer",
                "expires_at": "2026-09-01T00:00:00.000000Z",
            },
        },
        f"{WHEN}, you gave Acme consent to use your data (your interests) for marketing, "
        "until 1 September 2026 at 00:00 UTC.",
    ),
    kinds.CONSENT_REFUSED: (
        {"supplier_id": "sup_acme", "purpose": "sell_data_to_third_parties", "categories": ["health"]},
        f"{WHEN}, you refused Acme consent to use your data (your health) for selling your data.",
    ),
    kinds.CONSENT_WITHDRAWN: (
        {
            "purpose": "targeted_advertising",
            "categories": [],
            "reason": "withdrawn by the customer",
            "details": {
                "record_id": "con_1",
                "actor": "customer",
                "supplier_scope": "all",
                "category_scope": "all",
            },
        },
        f"{WHEN}, you withdrew the consent you had given every supplier to use any of your data for "
        "targeted ads.",
    ),
    kinds.CONSENT_EXPIRED: (
        {"supplier_id": "sup_acme", "purpose": "personalisation", "categories": ["preferences"]},
        f"{WHEN}, the consent you had given Acme to use your data (your preferences) for tailoring to you "
        "expired.",
    ),
    kinds.CONSENT_INVALIDATED: (
        {
            "supplier_id": "sup_acme",
            "purpose": "marketing",
            "categories": ["contact"],
            "reason": "privacy policy version 2 widened the use this consent was given for",
        },
        f"{WHEN}, the consent you had given Acme to use your data (how to reach you) for marketing stopped "
        "counting: Acme changed its privacy policy to use data more widely, so it must ask you again.",
    ),
    kinds.DECISION: (
        {
            "supplier_id": "sup_acme",
            "purpose": "direct_marketing",
            "decision": "permit",
            "reason": "permitted_by_consent",
            "categories": ["interests", "activity"],
            "details": {"release_kind": "offer_delivery", "records_relied_on": 1},
        },
        f"{WHEN}, Acme asked to use your data (your interests, what you do on sites) for offers sent to "
        "you: allowed, because you gave consent.",
    ),
    kinds.RELEASE: (
        {
            "supplier_id": "sup_acme",
            "purpose": "research_and_development",
            "release": {
                "kind": "aggregate_count",
                "categories": ["purchases"],
                "count": 1,
                "epsilon_milli": 100,
            },
        },
        f"{WHEN}, Acme counted you in a group total based on what you bought, for research and new products.",
    ),
    kinds.SANCTION_RECORDED: (
        {"supplier_id": "sup_acme", "reason": "sent offers after consent was withdrawn", "by": "auditor"},
        f"{WHEN}, an auditor sanctioned Acme: sent offers after consent was withdrawn.",
    ),
    kinds.FINDING_RECORDED: (
        {"supplier_id": "sup_acme", "details": {"finding_id": "fnd_1", "severity": "low"}},
        f"{WHEN}, an auditor recorded a finding about how Acme used data.",
    ),
    kinds.SUPPLIER_REGISTERED: (
        {"supplier_id": "sup_acme"},
        f"{WHEN}, Acme registered with the broker.",
    ),
    kinds.SUPPLIER_STATUS_CHANGED: (
        {"supplier_id": "sup_acme", "details": {"status": "suspended"}},
        f"{WHEN}, Acme is now suspended.",
    ),
    kinds.KEYS_SIGNING_ROTATED: (
        {"details": {"kid": "k2"}},
        f"{WHEN}, the broker replaced the key that signs this log.",
    ),
    kinds.KEYS_KEK_ROTATED: (
        {"details": {"phase": "rewrapped", "version": 2, "data_keys": 10}},
        f"{WHEN}, the broker re-protected the stored data keys with the new master key.",
    ),
    kinds.ACCOUNT_REGISTERED: ({"subject": PSEUDONYM}, f"{WHEN}, you opened your account."),
    kinds.ACCOUNT_ERASED: ({"subject": PSEUDONYM}, f"{WHEN}, your account was erased."),
    kinds.POLICY_PUBLISHED: (
        {"supplier_id": "sup_acme", "details": {"version": 3, "consent_floor_version": 3, "widened": 1}},
        f"{WHEN}, Acme published version 3 of its privacy policy, using data more widely than before.",
    ),
    kinds.TERMS_CHANGED: (
        {"subject": PSEUDONYM, "details": {"terms": 3, "never_category": 2, "min_price": 1}},
        f"{WHEN}, you set your standing terms, which override any consent: 2 kinds of data you never share, "
        "1 minimum price.",
    ),
    kinds.RELAY_ALIAS_CREATED: (
        {"subject": PSEUDONYM, "supplier_id": "sup_acme"},
        f"{WHEN}, Acme was given your relay address, so it can write to you without learning your own "
        "address. You can switch the address off on your relay page.",
    ),
    kinds.RELAY_ALIAS_SWITCHED: (
        {"subject": PSEUDONYM, "supplier_id": "sup_acme", "details": {"on": 0}},
        f"{WHEN}, you switched off your relay address for Acme: its mail is refused from now on.",
    ),
    kinds.RELAY_MESSAGE_RELAYED: (
        {"subject": PSEUDONYM, "supplier_id": "sup_acme", "purpose": "service_messages"},
        f"{WHEN}, Acme wrote to you at your relay address (messages about what you asked for), and the "
        "message was passed on to you.",
    ),
    kinds.RELAY_REPLY_SENT: (
        {"subject": PSEUDONYM, "supplier_id": "sup_acme"},
        f"{WHEN}, you replied to Acme through your relay address: Acme received your reply from that "
        "address, without your own address or name.",
    ),
    kinds.RELAY_MESSAGE_REPORTED: (
        {"subject": PSEUDONYM, "supplier_id": "sup_acme"},
        f"{WHEN}, you reported a message Acme sent to your relay address as unwanted; it counts toward the "
        "reports that can earn it a strike.",
    ),
}

SNAKE_CASE = re.compile(r"\b[a-z]+_[a-z_]+\b")


def test_every_kind_has_a_case_and_a_sentence() -> None:
    assert set(CASES) == kinds.KINDS
    assert set(wording.SENTENCES) == kinds.KINDS


@pytest.mark.parametrize("kind", sorted(CASES))
def test_each_kind_reads_as_one_plain_sentence(kind: str) -> None:
    fields, expected = CASES[kind]
    text = wording.describe({"kind": kind, "at": AT, **fields}, NAMES)
    assert text == expected
    assert not SNAKE_CASE.search(text), text


def test_the_gpc_signal_reads_as_the_browser_opting_out() -> None:
    entry = {
        "kind": kinds.CONSENT_REFUSED,
        "at": AT,
        "subject": PSEUDONYM,
        "reason": "Global Privacy Control signal: opt-out of sale and sharing",
        "details": {"signal": "sec-gpc", "scope": "sale_and_sharing"},
    }
    assert wording.describe(entry, NAMES) == (
        f"{WHEN}, your browser's Global Privacy Control signal opted you out of the sale and sharing of your "
        "data, with every supplier."
    )


def test_an_automatic_strike_names_the_broker_and_no_auditor() -> None:
    entry = {
        "kind": kinds.SANCTION_RECORDED,
        "at": AT,
        "supplier_id": "sup_acme",
        "reason": "differencing pattern",
        "by": kinds.BY_SYSTEM,
    }
    assert wording.describe(entry, NAMES) == (
        f"{WHEN}, the broker's automatic checks struck Acme: differencing pattern."
    )


def test_only_a_sanction_says_who_recorded_it_and_only_auditor_or_system() -> None:
    sanction = {"kind": kinds.SANCTION_RECORDED, "supplier_id": "sup_acme", "reason": "r"}
    normalised, _ = kinds.normalise({**sanction, "by": kinds.BY_SYSTEM}, utcnow())
    assert normalised["by"] == "system"
    with pytest.raises(EntryError):
        kinds.normalise({**sanction, "by": "operator"}, utcnow())
    with pytest.raises(EntryError):
        kinds.normalise(
            {"kind": kinds.SUPPLIER_REGISTERED, "supplier_id": "sup_acme", "by": "system"}, utcnow()
        )


def test_cleared_terms_and_an_unknown_supplier() -> None:
    cleared = {"kind": kinds.TERMS_CHANGED, "at": AT, "subject": PSEUDONYM, "details": {"terms": 0}}
    assert wording.describe(cleared, NAMES) == f"{WHEN}, you removed all your standing terms."
    gone = {"kind": kinds.SUPPLIER_REGISTERED, "at": AT, "supplier_id": "sup_gone"}
    assert wording.describe(gone, NAMES) == f"{WHEN}, a supplier registered with the broker."
    future = {"kind": "something.new", "at": AT}
    assert "cannot describe yet" in wording.describe(future, NAMES)


@pytest.mark.parametrize("reason", list(Reason))
def test_every_decision_reason_has_words(reason: Reason) -> None:
    entry = {"kind": kinds.DECISION, "at": AT, "supplier_id": "sup_acme", "purpose": "marketing"}
    text = wording.describe({**entry, "decision": "deny", "reason": reason.value}, NAMES)
    assert text.endswith(f", because {wording.REASONS[reason.value]}.")
    assert not SNAKE_CASE.search(text), text


def test_every_release_kind_and_term_kind_has_words() -> None:
    assert set(wording.RELEASES) == {k.value for k in ReleaseKind}
    assert set(wording.TERM_KINDS) == set(TERM_KINDS)
