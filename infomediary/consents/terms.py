"""The customer's standing terms: replaced as a whole set, bounded in number, read by the decision point.

Every change is written to the policy log in the same transaction, summarised as a count per kind of term.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.orm import Session

from consent.vocabulary import Category, Purpose
from infomediary.consents import repository
from infomediary.consents.errors import InvalidConsentInput, TooManyTerms
from infomediary.consents.models import StandingTermRow
from infomediary.database import WriteSession, utcnow
from infomediary.ids import new_id
from infomediary.policylog import kinds as log_kinds
from infomediary.policylog.service import append as log_append
from infomediary.policylog.service import log_pseudonym
from infomediary.runtime import Runtime

MAX_TERMS = 50
KINDS = (
    repository.NEVER_CATEGORY,
    repository.NEVER_PURPOSE,
    repository.MIN_PRICE,
    repository.ONLY_UNSTRUCK_SUPPLIERS,
)


@dataclass(frozen=True)
class TermSpec:
    kind: str
    category: Category | None = None
    purpose: Purpose | None = None
    credits: int | None = None


@dataclass(frozen=True)
class TermView:
    id: str
    kind: str
    category: Category | None
    purpose: Purpose | None
    credits: int | None
    created_at: datetime


def _view(row: StandingTermRow) -> TermView:
    return TermView(
        id=row.id,
        kind=row.kind,
        category=None if row.category is None else Category(row.category),
        purpose=None if row.purpose is None else Purpose(row.purpose),
        credits=row.credits,
        created_at=row.created_at,
    )


def _check(spec: TermSpec) -> None:
    needs = {
        repository.NEVER_CATEGORY: spec.category is not None
        and spec.purpose is None
        and spec.credits is None,
        repository.NEVER_PURPOSE: spec.purpose is not None and spec.category is None and spec.credits is None,
        repository.MIN_PRICE: spec.credits is not None and spec.credits >= 0 and spec.purpose is None,
        repository.ONLY_UNSTRUCK_SUPPLIERS: spec.category is None
        and spec.purpose is None
        and spec.credits is None,
    }
    if not needs.get(spec.kind, False):
        raise InvalidConsentInput(
            f"a {spec.kind!r} term takes: never_category a category; never_purpose a purpose; "
            "min_price credits and optionally a category; only_unstruck_suppliers nothing"
        )


def list_terms(session: Session, customer_id: str) -> list[TermView]:
    return [_view(r) for r in repository.term_rows(session, customer_id)]


def replace_terms(
    session: WriteSession, runtime: Runtime, customer_id: str, specs: Sequence[TermSpec]
) -> list[TermView]:
    """Replace the customer's standing terms by `specs` (all checked first, so a bad one changes nothing).

    A new term can exclude the customer from audiences: `flows.consent_changed.replace_terms` retires
    cached counts after this.
    """
    if len(specs) > MAX_TERMS:
        raise TooManyTerms(f"at most {MAX_TERMS} standing terms")
    for spec in specs:
        _check(spec)
    _delete(session, customer_id)
    now = utcnow()
    kept = list(dict.fromkeys(specs))
    for spec in kept:
        session.add(
            StandingTermRow(
                id=new_id("trm"),
                customer_id=customer_id,
                kind=spec.kind,
                category=None if spec.category is None else spec.category.value,
                purpose=None if spec.purpose is None else spec.purpose.value,
                credits=spec.credits,
                created_at=now,
            )
        )
    session.flush()
    _log(session, runtime, customer_id, kept)
    return list_terms(session, customer_id)


def clear_terms(session: WriteSession, runtime: Runtime, customer_id: str) -> None:
    _delete(session, customer_id)
    _log(session, runtime, customer_id, [])


def _delete(session: WriteSession, customer_id: str) -> None:
    session.execute(delete(StandingTermRow).where(StandingTermRow.customer_id == customer_id))
    session.flush()


def _log(session: WriteSession, runtime: Runtime, customer_id: str, kept: Sequence[TermSpec]) -> None:
    per_kind = Counter(spec.kind for spec in kept)
    log_append(
        session,
        {
            "kind": log_kinds.TERMS_CHANGED,
            "subject": log_pseudonym(runtime, customer_id),
            "details": {"terms": len(kept), **{kind: per_kind[kind] for kind in KINDS if per_kind[kind]}},
        },
    )
