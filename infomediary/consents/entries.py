"""Policy-log entries for consent events and decisions: pseudonymous subject, vocabulary keys only."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from consent.decision import Decision, SupplierQuery
from consent.records import ALL_CATEGORIES, ALL_SUPPLIERS, ConsentEvent, ConsentRecord, ConsentState
from infomediary.policylog import kinds
from infomediary.policylog.kinds import format_at
from infomediary.policylog.service import log_pseudonym
from infomediary.runtime import Runtime

EVENT_KINDS: Final[Mapping[ConsentState, str]] = {
    ConsentState.GIVEN: kinds.CONSENT_GRANTED,
    ConsentState.REFUSED: kinds.CONSENT_REFUSED,
    ConsentState.WITHDRAWN: kinds.CONSENT_WITHDRAWN,
    ConsentState.EXPIRED: kinds.CONSENT_EXPIRED,
    ConsentState.INVALIDATED: kinds.CONSENT_INVALIDATED,
}


def consent_event_entry(runtime: Runtime, record: ConsentRecord, event: ConsentEvent) -> dict[str, Any]:
    """The log entry of one consent event (a `requested` event has no kind of its own and is not logged)."""
    details: dict[str, Any] = {"record_id": record.record_id, "actor": event.actor.value}
    if record.supplier is ALL_SUPPLIERS:
        details["supplier_scope"] = "all"
    if record.category is ALL_CATEGORIES:
        details["category_scope"] = "all"
    if record.policy_version is not None:
        details["policy_version"] = record.policy_version
    if event.to_state is ConsentState.GIVEN and record.expires_at is not None:
        details["expires_at"] = format_at(record.expires_at)
    return {
        "kind": EVENT_KINDS[event.to_state],
        "at": format_at(event.at),
        "subject": log_pseudonym(runtime, record.customer_id),
        "supplier_id": None if record.supplier is ALL_SUPPLIERS else record.supplier,
        "purpose": record.purpose.value,
        "categories": [] if record.category is ALL_CATEGORIES else [record.category.value],
        "reason": event.reason,
        "details": details,
    }


def decision_entry(
    runtime: Runtime, customer_id: str, query: SupplierQuery, decision: Decision
) -> dict[str, Any]:
    """The log entry of one decision: permit or deny, its reason code, how many records and terms it used."""
    return {
        "kind": kinds.DECISION,
        "at": format_at(query.now),
        "subject": log_pseudonym(runtime, customer_id),
        "supplier_id": query.supplier_id,
        "purpose": query.purpose.value,
        "decision": kinds.PERMIT if decision.permitted else kinds.DENY,
        "reason": decision.reason.value,
        "categories": [c.value for c in query.ordered_categories],
        "details": {
            "release_kind": query.release_kind.value,
            "records_relied_on": len(decision.record_ids),
            "terms_relied_on": len(decision.term_ids),
            "offered_price": query.offered_price,
            "asked_price": decision.asked_price,
        },
    }
