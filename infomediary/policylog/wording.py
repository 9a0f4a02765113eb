"""Plain words for the customer view: who used my data, for what, when, and was it allowed."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from infomediary.policylog import kinds

_CONSENT_VERBS = {
    kinds.CONSENT_GRANTED: "you gave consent",
    kinds.CONSENT_REFUSED: "you refused consent",
    kinds.CONSENT_WITHDRAWN: "you withdrew consent",
    kinds.CONSENT_EXPIRED: "your consent expired",
    kinds.CONSENT_INVALIDATED: "your consent was invalidated (the supplier changed its policy)",
}


def _when(at: str) -> str:
    try:
        moment = datetime.fromisoformat(at.replace("Z", "+00:00"))
    except ValueError:
        return at
    return moment.strftime("%d %B %Y at %H:%M UTC")


def _words(key: str | None) -> str:
    return key.replace("_", " ") if key else "an unstated purpose"


def describe(entry: Mapping[str, Any], supplier_names: Mapping[str, str]) -> str:
    """One sentence about one entry, in the customer's terms."""
    kind = entry.get("kind")
    when = _when(str(entry.get("at", "")))
    supplier_id = entry.get("supplier_id")
    who = supplier_names.get(supplier_id, "a supplier") if supplier_id else "a supplier"
    purpose = _words(entry.get("purpose"))
    categories = ", ".join(_words(c) for c in entry.get("categories") or []) or None
    about = f" ({categories})" if categories else ""
    reason = entry.get("reason")
    because = f" because {reason}" if reason else ""
    if kind == kinds.DECISION:
        verdict = "allowed" if entry.get("decision") == kinds.PERMIT else "denied"
        return f"On {when}, {who} asked to use your data{about} for {purpose}: {verdict}{because}."
    if kind == kinds.RELEASE:
        release = entry.get("release") or {}
        shared = ", ".join(_words(c) for c in release.get("categories") or []) or "data"
        return (
            f"On {when}, {who} received {_words(release.get('kind'))} output including you "
            f"({shared}) for {purpose}."
        )
    if kind in _CONSENT_VERBS:
        return f"On {when}, {_CONSENT_VERBS[kind]} to {who} for {purpose}{about}{because}."
    if kind == kinds.ACCOUNT_REGISTERED:
        return f"On {when}, you opened your account."
    if kind == kinds.ACCOUNT_ERASED:
        return f"On {when}, your account was erased."
    return f"On {when}: {_words(str(kind).replace('.', ' '))}{because}."
