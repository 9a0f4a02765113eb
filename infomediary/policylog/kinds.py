"""What a policy-log entry may say: its kinds and the fields each carries, checked before encoding.

The checks keep personal data out of the log by construction: only known fields are accepted, a customer
appears only as a log pseudonym (64 hex digits, so a raw customer id cannot slip in), and free text is
bounded and limited to reasons written by the service or an auditor.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from infomediary.policylog.errors import EntryError

CONSENT_GRANTED = "consent.granted"
CONSENT_REFUSED = "consent.refused"
CONSENT_WITHDRAWN = "consent.withdrawn"
CONSENT_EXPIRED = "consent.expired"
CONSENT_INVALIDATED = "consent.invalidated"
DECISION = "decision"
RELEASE = "release"
SANCTION_RECORDED = "sanction.recorded"
FINDING_RECORDED = "finding.recorded"
SUPPLIER_REGISTERED = "supplier.registered"
SUPPLIER_STATUS_CHANGED = "supplier.status_changed"
KEYS_SIGNING_ROTATED = "keys.signing_rotated"
KEYS_KEK_ROTATED = "keys.kek_rotated"
ACCOUNT_REGISTERED = "account.registered"
ACCOUNT_ERASED = "account.erased"
POLICY_PUBLISHED = "policy.published"
TERMS_CHANGED = "terms.changed"
# The mail relay (issue 20): a supplier given her relay address, the address switched off or on, and a
# message passed to her through it. None carries the address: the log outlives her erasure.
RELAY_ALIAS_CREATED = "relay.alias_created"
RELAY_ALIAS_SWITCHED = "relay.alias_switched"
RELAY_MESSAGE_RELAYED = "relay.message_relayed"
# Her reply to a relayed message, passed to the supplier from her relay address.
RELAY_REPLY_SENT = "relay.reply_sent"
# She reported a relayed message as unwanted through its mail's report link.
RELAY_MESSAGE_REPORTED = "relay.message_reported"

KINDS = frozenset(
    {
        CONSENT_GRANTED,
        CONSENT_REFUSED,
        CONSENT_WITHDRAWN,
        CONSENT_EXPIRED,
        CONSENT_INVALIDATED,
        DECISION,
        RELEASE,
        SANCTION_RECORDED,
        FINDING_RECORDED,
        SUPPLIER_REGISTERED,
        SUPPLIER_STATUS_CHANGED,
        KEYS_SIGNING_ROTATED,
        KEYS_KEK_ROTATED,
        ACCOUNT_REGISTERED,
        ACCOUNT_ERASED,
        POLICY_PUBLISHED,
        TERMS_CHANGED,
        RELAY_ALIAS_CREATED,
        RELAY_ALIAS_SWITCHED,
        RELAY_MESSAGE_RELAYED,
        RELAY_REPLY_SENT,
        RELAY_MESSAGE_REPORTED,
    }
)

PERMIT = "permit"
DENY = "deny"
# Who recorded a sanction: an auditor, or the broker's own automatic checks (a differencing pattern, an
# undeclared use, customers' reports). Entries from before this field existed carry neither.
BY_AUDITOR = "auditor"
BY_SYSTEM = "system"

FIELDS = frozenset(
    {
        "kind",
        "at",
        "subject",
        "supplier_id",
        "purpose",
        "decision",
        "reason",
        "release",
        "categories",
        "details",
        "by",
    }
)
RELEASE_FIELDS = frozenset({"kind", "categories", "count", "epsilon_milli"})
MAX_REASON = 500
MAX_CATEGORIES = 50
MAX_DETAILS = 20

_AT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?Z", re.ASCII)
_PSEUDONYM = re.compile(r"[0-9a-f]{64}", re.ASCII)
_KEY = re.compile(r"[a-z][a-z0-9_.:-]{0,63}", re.ASCII)
_SUPPLIER_ID = re.compile(r"[A-Za-z0-9_-]{1,40}", re.ASCII)


@dataclass(frozen=True)
class Dimensions:
    """The queryable fields of an entry, stored in clear columns beside its bytes."""

    kind: str
    subject: str | None
    supplier_id: str | None
    purpose: str | None
    decision: str | None
    categories: str | None
    release_count: int | None
    epsilon_milli: int | None


def format_at(moment: datetime) -> str:
    """RFC 3339 UTC with a `Z`, to the microsecond: the one spelling of `at` the log accepts."""
    if moment.tzinfo is None:
        raise EntryError("`at` must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _key(value: Any, what: str) -> str:
    if not isinstance(value, str) or not _KEY.fullmatch(value):
        raise EntryError(f"{what} must be a short lower-case key")
    return value


def _text(value: Any, what: str, limit: int = MAX_REASON) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise EntryError(f"{what} must be non-empty text of at most {limit} characters")
    return value


def _count(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise EntryError(f"{what} must be a non-negative integer")
    return value


def _categories(value: Any, what: str) -> list[str]:
    if not isinstance(value, list | tuple) or len(value) > MAX_CATEGORIES:
        raise EntryError(f"{what} must be a list of at most {MAX_CATEGORIES} category keys")
    return sorted({_key(item, f"{what}[]") for item in value})


def _details(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping) or len(value) > MAX_DETAILS:
        raise EntryError(f"details must be an object of at most {MAX_DETAILS} fields")
    out: dict[str, Any] = {}
    for key, item in value.items():
        _key(key, "details key")
        if isinstance(item, str):
            out[key] = _text(item, f"details.{key}")
        elif isinstance(item, int) and not isinstance(item, bool):
            out[key] = item
        else:
            raise EntryError(f"details.{key} must be text or an integer")
    return out


def _release(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping) or set(value) != RELEASE_FIELDS:
        raise EntryError(f"release must have exactly the fields {', '.join(sorted(RELEASE_FIELDS))}")
    return {
        "kind": _key(value["kind"], "release.kind"),
        "categories": _categories(value["categories"], "release.categories"),
        "count": _count(value["count"], "release.count"),
        "epsilon_milli": _count(value["epsilon_milli"], "release.epsilon_milli"),
    }


def _check_terms_changed(out: Mapping[str, Any]) -> None:
    """A customer's standing terms, summarised: who (pseudonym) and how many terms of each kind, nothing else.

    Counts only, no text: a term's category or purpose would say more about the customer than the log needs.
    """
    if "subject" not in out or set(out) - {"kind", "at", "subject", "details"}:
        raise EntryError("a terms.changed entry carries only `subject` and `details`")
    details = out.get("details")
    if details is None or "terms" not in details:
        raise EntryError("a terms.changed entry needs `details.terms`, the number of terms now in force")
    if any(isinstance(value, str) for value in details.values()):
        raise EntryError("a terms.changed entry's details are counts, not text")
    if sum(count for key, count in details.items() if key != "terms") != details["terms"]:
        raise EntryError("a terms.changed entry's counts per kind must add up to `details.terms`")


def normalise(entry: Mapping[str, Any], now: datetime) -> tuple[dict[str, Any], Dimensions]:
    """Check an entry's fields, fill `at` if absent, and return it with its dimensions."""
    if not FIELDS.issuperset(entry):
        unknown = sorted(map(str, set(entry) - FIELDS))
        raise EntryError(f"unknown entry fields: {', '.join(unknown)}")
    kind = entry.get("kind")
    if kind not in KINDS:
        raise EntryError(f"unknown entry kind {kind!r}")
    out: dict[str, Any] = {"kind": kind}
    # Formatted only when absent: strftime is a measurable share of a bulk append.
    at = entry["at"] if "at" in entry else format_at(now)
    if not isinstance(at, str) or not _AT.fullmatch(at):
        raise EntryError("`at` must be an RFC 3339 UTC time ending in Z")
    out["at"] = at
    if entry.get("subject") is not None:
        if not isinstance(entry["subject"], str) or not _PSEUDONYM.fullmatch(entry["subject"]):
            raise EntryError("subject must be a log pseudonym (64 lower-case hex digits)")
        out["subject"] = entry["subject"]
    if entry.get("supplier_id") is not None:
        if not isinstance(entry["supplier_id"], str) or not _SUPPLIER_ID.fullmatch(entry["supplier_id"]):
            raise EntryError("supplier_id must be a supplier id")
        out["supplier_id"] = entry["supplier_id"]
    if entry.get("purpose") is not None:
        out["purpose"] = _key(entry["purpose"], "purpose")
    if entry.get("decision") is not None:
        if entry["decision"] not in (PERMIT, DENY):
            raise EntryError("decision must be 'permit' or 'deny'")
        out["decision"] = entry["decision"]
    if entry.get("reason") is not None:
        out["reason"] = _text(entry["reason"], "reason")
    if entry.get("by") is not None:
        if kind != SANCTION_RECORDED or entry["by"] not in (BY_AUDITOR, BY_SYSTEM):
            raise EntryError("`by` is 'auditor' or 'system', on a sanction.recorded entry only")
        out["by"] = entry["by"]
    if entry.get("categories") is not None:
        out["categories"] = _categories(entry["categories"], "categories")
    if entry.get("release") is not None:
        out["release"] = _release(entry["release"])
    if entry.get("details") is not None:
        out["details"] = _details(entry["details"])
    if kind == DECISION and ("decision" not in out or "reason" not in out):
        raise EntryError("a decision entry needs `decision` and `reason`")
    if kind == RELEASE and "release" not in out:
        raise EntryError("a release entry needs `release`")
    if kind == TERMS_CHANGED:
        _check_terms_changed(out)
    release = out.get("release")
    categories = out.get("categories") or (release["categories"] if release else None)
    return out, Dimensions(
        kind=kind,
        subject=out.get("subject"),
        supplier_id=out.get("supplier_id"),
        purpose=out.get("purpose"),
        decision=out.get("decision"),
        categories=" ".join(categories) if categories else None,
        release_count=release["count"] if release else None,
        epsilon_milli=release["epsilon_milli"] if release else None,
    )
