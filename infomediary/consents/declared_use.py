"""Declared use: a supplier may ask only for the purposes and data categories its published policy declares.

One check for every way a supplier asks: requests to a customer, audience counts (and the audience
recommendations built on them), offers, slices, and recommendations for one of its pseudonyms. Asking beyond
the policy is refused with 403 `undeclared-use`, the denial is logged and the broker records a strike; the
refused request itself is rolled back (`DomainError.recording`), so nothing else it did survives. Callers
check first, before resolving a pseudonym, reading a customer, spending budget or serving a cached answer:
the refusal then says nothing about any customer and costs nothing but the strike.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Final

from sqlalchemy.orm import Session

from consent.decision import Reason
from consent.policy import undeclared
from consent.vocabulary import Category, Purpose, ReleaseKind
from infomediary.consents import repository
from infomediary.consents.errors import PolicyRequired, UndeclaredUse
from infomediary.consents.models import SupplierPolicyRow
from infomediary.database import WriteSession
from infomediary.policylog import kinds
from infomediary.policylog.kinds import format_at
from infomediary.policylog.service import append as log_append
from infomediary.sanctions import service as sanctions
from infomediary.settings import Settings

UNDECLARED_STRIKE_REASON: Final = "asked for a purpose or data category the supplier never declared"


def require_declared(
    session: Session,
    settings: Settings,
    supplier_id: str,
    *,
    purpose: Purpose,
    categories: Iterable[Category],
    release_kind: ReleaseKind,
    now: datetime,
) -> SupplierPolicyRow:
    """The supplier's current policy, if it declares `purpose` and every one of `categories`.

    No policy at all is `PolicyRequired` (409, nothing recorded): a supplier that has not published one yet
    is told to, not struck for every first try. Anything undeclared is `UndeclaredUse`, recorded.
    """
    policy = repository.current_policy_row(session, supplier_id)
    if policy is None:
        raise PolicyRequired("publish a privacy policy (PUT /v1/supplier/policy) before asking for data")
    asked = frozenset(categories)
    beyond = undeclared(repository.to_policy(policy), purpose, asked)
    if not beyond:
        return policy
    denial = {
        "kind": kinds.DECISION,
        "at": format_at(now),
        "supplier_id": supplier_id,
        "purpose": purpose.value,
        "decision": kinds.DENY,
        "reason": (Reason.UNDECLARED_PURPOSE if beyond.purpose else Reason.UNDECLARED_CATEGORY).value,
        "categories": sorted(c.value for c in asked),
        "details": {"policy_version": policy.version, "release_kind": release_kind.value},
    }

    def record(record_in: WriteSession) -> None:
        # The denial is logged, and asking for what the policy never declared earns the broker's strike.
        log_append(record_in, denial)
        sanctions.record_strike(record_in, settings, supplier_id=supplier_id, reason=UNDECLARED_STRIKE_REASON)

    raise UndeclaredUse(
        undeclared_purpose=None if beyond.purpose is None else beyond.purpose.value,
        undeclared_categories=sorted(c.value for c in beyond.categories),
    ).recording(record)
