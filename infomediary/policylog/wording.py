"""Plain words for the customer view: who used my data, for what, when, and was it allowed.

Every entry kind has its own sentence, in the second person, naming purposes, kinds of data and forms of
release by the vocabulary's consumer-facing labels rather than by their keys.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final

from consent.decision import Reason
from consent.vocabulary import CATEGORIES, PURPOSES, Category, Purpose, ReleaseKind
from infomediary.policylog import kinds

# The decision's reason code, as the end of "allowed, because ..." or "denied, because ...".
REASONS: Final[Mapping[str, str]] = {
    Reason.PROCESSING_RESTRICTED.value: "you have restricted all processing of your data",
    Reason.NEVER_PURPOSE.value: "your standing terms never allow this purpose",
    Reason.SUPPLIER_HAS_STRIKES.value: "your standing terms rule out suppliers with strikes against them",
    Reason.NEVER_CATEGORY.value: "your standing terms never allow this kind of data",
    Reason.UNDECLARED_PURPOSE.value: "its privacy policy does not mention this purpose",
    Reason.UNDECLARED_CATEGORY.value: "its privacy policy does not mention this kind of data",
    Reason.CONSENT_WITHDRAWN.value: "you withdrew your consent",
    Reason.CONSENT_REFUSED.value: "you refused consent",
    Reason.GPC_OPT_OUT.value: (
        "your browser's Global Privacy Control signal opted you out of sale and sharing"
    ),
    Reason.OPT_IN_REQUIRED.value: "this use needs your explicit consent, which you have not given",
    Reason.PRICE_TOO_LOW.value: "the offer was below your price",
    Reason.PERMITTED_BY_CONSENT.value: "you gave consent",
    Reason.PERMITTED_BY_DEFAULT.value: "ordinary data for an ordinary purpose may be used unless you object",
}

# What the supplier got, as the verb phrase of "<supplier> ...".
RELEASES: Final[Mapping[str, str]] = {
    ReleaseKind.AGGREGATE_COUNT.value: "counted you in a group total",
    ReleaseKind.PSEUDONYMOUS_SLICE.value: "received some of your data under a nickname only it sees",
    ReleaseKind.OFFER_DELIVERY.value: "sent an offer to your inbox",
    ReleaseKind.IDENTITY_RELEASE.value: "learned who you are",
    ReleaseKind.MESSAGE_DELIVERY.value: "wrote to you at your relay address",
}

# Standing-term kinds, for the summary of a terms change: (one, many).
TERM_KINDS: Final[Mapping[str, tuple[str, str]]] = {
    "never_category": ("kind of data you never share", "kinds of data you never share"),
    "never_purpose": ("purpose you never allow", "purposes you never allow"),
    "min_price": ("minimum price", "minimum prices"),
    "only_unstruck_suppliers": (
        "rule to deal only with suppliers without strikes",
        "rules to deal only with suppliers without strikes",
    ),
}

_KEK_PHASES: Final[Mapping[str, str]] = {
    "added": "started protecting newly stored data keys with a new master key",
    "rewrapped": "re-protected the stored data keys with the new master key",
    "retired": "retired a master key that no data key needed any more",
}


def _when(at: str) -> str:
    try:
        moment = datetime.fromisoformat(at.replace("Z", "+00:00"))
    except ValueError:
        return at
    return f"{moment.day} {moment:%B %Y at %H:%M} UTC"


def _lower_first(label: str) -> str:
    return label[:1].lower() + label[1:]


def _purpose(key: Any) -> str:
    try:
        return _lower_first(PURPOSES[Purpose(key)].label)
    except ValueError:
        return str(key).replace("_", " ") if key else "an unstated purpose"


def _category(key: Any) -> str:
    try:
        return _lower_first(CATEGORIES[Category(key)].label)
    except ValueError:
        return str(key).replace("_", " ")


def _data(categories: Any, *, everything: bool = False) -> str:
    """ "your data" followed by the kinds of data in brackets, if the entry names them."""
    if everything:
        return "any of your data"
    named = [_category(c) for c in categories or []]
    return f"your data ({', '.join(named)})" if named else "your data"


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"


class _Entry:
    """The pieces of one entry that the sentences share."""

    def __init__(self, entry: Mapping[str, Any], supplier_names: Mapping[str, str]) -> None:
        self.entry = entry
        self.details: Mapping[str, Any] = entry.get("details") or {}
        self.when = _when(str(entry.get("at", "")))
        supplier_id = entry.get("supplier_id")
        if supplier_id:
            self.who = supplier_names.get(supplier_id, "a supplier")
        elif self.details.get("supplier_scope") == "all":
            self.who = "every supplier"
        else:
            self.who = "a supplier"
        self.purpose = _purpose(entry.get("purpose"))
        self.data = _data(entry.get("categories"), everything=self.details.get("category_scope") == "all")


def _granted(e: _Entry) -> str:
    until = e.details.get("expires_at")
    lasting = f", until {_when(str(until))}" if until else ""
    return f"On {e.when}, you gave {e.who} consent to use {e.data} for {e.purpose}{lasting}."


def _refused(e: _Entry) -> str:
    if e.details.get("signal") == "sec-gpc":
        return (
            f"On {e.when}, your browser's Global Privacy Control signal opted you out of the sale and "
            "sharing of your data, with every supplier."
        )
    return f"On {e.when}, you refused {e.who} consent to use {e.data} for {e.purpose}."


def _withdrawn(e: _Entry) -> str:
    return f"On {e.when}, you withdrew the consent you had given {e.who} to use {e.data} for {e.purpose}."


def _expired(e: _Entry) -> str:
    return f"On {e.when}, the consent you had given {e.who} to use {e.data} for {e.purpose} expired."


def _invalidated(e: _Entry) -> str:
    return (
        f"On {e.when}, the consent you had given {e.who} to use {e.data} for {e.purpose} stopped counting: "
        f"{e.who} changed its privacy policy to use data more widely, so it must ask you again."
    )


def _decision(e: _Entry) -> str:
    allowed = e.entry.get("decision") == kinds.PERMIT
    code = e.entry.get("reason")
    # A code this page does not know yet (or older free text) is still shown, as it is.
    reason = REASONS.get(str(code), str(code).replace("_", " ")) if code else None
    because = f", because {reason}" if reason else ""
    verdict = "allowed" if allowed else "denied"
    return f"On {e.when}, {e.who} asked to use {e.data} for {e.purpose}: {verdict}{because}."


def _release(e: _Entry) -> str:
    release = e.entry.get("release") or {}
    what = RELEASES.get(str(release.get("kind")), "received data about you")
    named = [_category(c) for c in release.get("categories") or []]
    based = f" based on {', '.join(named)}," if named else ""
    return f"On {e.when}, {e.who} {what}{based} for {e.purpose}."


def _terms_changed(e: _Entry) -> str:
    total = e.details.get("terms", 0)
    if not total:
        return f"On {e.when}, you removed all your standing terms."
    parts = [_count(e.details[k], *TERM_KINDS[k]) for k in TERM_KINDS if e.details.get(k)]
    summary = ", ".join(parts) or _count(total, "term", "terms")
    return f"On {e.when}, you set your standing terms, which override any consent: {summary}."


def _policy_published(e: _Entry) -> str:
    version = e.details.get("version")
    widened = ", using data more widely than before" if e.details.get("widened") else ""
    return f"On {e.when}, {e.who} published version {version} of its privacy policy{widened}."


def _sanction(e: _Entry) -> str:
    reason = e.entry.get("reason")
    because = f": {reason}" if reason else ""
    if e.entry.get("by") == kinds.BY_SYSTEM:
        return f"On {e.when}, the broker's automatic checks struck {e.who}{because}."
    return f"On {e.when}, an auditor sanctioned {e.who}{because}."


def _finding(e: _Entry) -> str:
    return f"On {e.when}, an auditor recorded a finding about how {e.who} used data."


def _status(e: _Entry) -> str:
    status = e.details.get("status")
    now = f" is now {str(status).replace('_', ' ')}" if status else "'s status changed"
    return f"On {e.when}, {e.who}{now}."


def _kek(e: _Entry) -> str:
    action = _KEK_PHASES.get(str(e.details.get("phase")), "rotated the master keys that protect data keys")
    return f"On {e.when}, the broker {action}."


def _alias_created(e: _Entry) -> str:
    return (
        f"On {e.when}, {e.who} was given your relay address, so it can write to you without learning your "
        "own address. You can switch the address off on your relay page."
    )


def _alias_switched(e: _Entry) -> str:
    if e.details.get("on"):
        return (
            f"On {e.when}, you switched your relay address for {e.who} back on: its mail reaches you again."
        )
    return f"On {e.when}, you switched off your relay address for {e.who}: its mail is refused from now on."


def _message_relayed(e: _Entry) -> str:
    return (
        f"On {e.when}, {e.who} wrote to you at your relay address ({e.purpose}), and the message was passed "
        "on to you."
    )


def _reply_sent(e: _Entry) -> str:
    return (
        f"On {e.when}, you replied to {e.who} through your relay address: {e.who} received your reply from "
        "that address, without your own address or name."
    )


def _message_reported(e: _Entry) -> str:
    return (
        f"On {e.when}, you reported a message {e.who} sent to your relay address as unwanted; it counts "
        "toward the reports that can earn it a strike."
    )


SENTENCES: Final[Mapping[str, Callable[[_Entry], str]]] = {
    kinds.CONSENT_GRANTED: _granted,
    kinds.CONSENT_REFUSED: _refused,
    kinds.CONSENT_WITHDRAWN: _withdrawn,
    kinds.CONSENT_EXPIRED: _expired,
    kinds.CONSENT_INVALIDATED: _invalidated,
    kinds.DECISION: _decision,
    kinds.RELEASE: _release,
    kinds.SANCTION_RECORDED: _sanction,
    kinds.FINDING_RECORDED: _finding,
    kinds.SUPPLIER_REGISTERED: lambda e: f"On {e.when}, {e.who} registered with the broker.",
    kinds.SUPPLIER_STATUS_CHANGED: _status,
    kinds.KEYS_SIGNING_ROTATED: lambda e: f"On {e.when}, the broker replaced the key that signs this log.",
    kinds.KEYS_KEK_ROTATED: _kek,
    kinds.ACCOUNT_REGISTERED: lambda e: f"On {e.when}, you opened your account.",
    kinds.ACCOUNT_ERASED: lambda e: f"On {e.when}, your account was erased.",
    kinds.POLICY_PUBLISHED: _policy_published,
    kinds.TERMS_CHANGED: _terms_changed,
    kinds.RELAY_ALIAS_CREATED: _alias_created,
    kinds.RELAY_ALIAS_SWITCHED: _alias_switched,
    kinds.RELAY_MESSAGE_RELAYED: _message_relayed,
    kinds.RELAY_REPLY_SENT: _reply_sent,
    kinds.RELAY_MESSAGE_REPORTED: _message_reported,
}


def describe(entry: Mapping[str, Any], supplier_names: Mapping[str, str]) -> str:
    """One sentence about one entry, in the customer's terms."""
    sentence = SENTENCES.get(str(entry.get("kind")))
    pieces = _Entry(entry, supplier_names)
    if sentence is None:
        return f"On {pieces.when}, the broker recorded an event of a kind this page cannot describe yet."
    return sentence(pieces)
