"""Taking a pseudonymous slice: consent-gated candidates, generalised values, k-anonymity, pseudonyms, log.

Composition (issue 17): what a supplier learns from all its slices together stays k-anonymous because the
slices cannot be joined. Each release gets fresh pseudonyms (`pseudonyms.release_pseudonyms`), unrelated to
other releases' and to the customer's stable pseudonym, and every column is a quasi-identifier (`fields`),
so a column two releases share matches, for any row of one, either none or a whole class (at least k
rows) of the other. Why unlinkable releases and not a per-supplier release state is in
`infomediary.pseudonyms.service`.

Everything is computed in the caller's transaction before anything is returned: k-anonymity needs the whole
set, and the release must commit with its log entries (non-negotiable 2). The caller streams the result.

Logging: one `decision` entry per released customer (individual data leaves the broker) and one `release`
entry, all appended as the transaction commits (`append_at_commit`). Each decision is re-evaluated for the
customer by the same rules the set filter applied (the property test holds them equal), so the entry
carries the real reason and records; a customer whose consent changed in between is dropped and the rest
anonymised again. The decisions' inputs are loaded for all released customers at once (`evaluate_many`,
a few queries per 500 customers); the Merkle appends are one bulk insert.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from consent.decision import Decision
from consent.vocabulary import Purpose, ReleaseKind
from infomediary.consents.decision_point import evaluate_many, supplier_query
from infomediary.consents.declared_use import require_declared
from infomediary.consents.entries import decision_entry
from infomediary.database import WriteSession, utcnow
from infomediary.policylog import kinds
from infomediary.policylog.kinds import format_at
from infomediary.policylog.service import append_at_commit
from infomediary.profiles import service as profiles
from infomediary.pseudonyms import service as pseudonyms
from infomediary.runtime import Runtime
from infomediary.slices import anonymity, fields, repository
from infomediary.slices.charging import charge_for_release
from infomediary.slices.errors import SliceTooLarge


@dataclass(frozen=True)
class Slice:
    """A released slice: rows keyed by this release's own pseudonyms, and what was done to make it safe."""

    release_id: str
    columns: list[str]
    rows: list[dict[str, Any]]
    k: int
    level: int
    suppressed: int
    price_per_customer: int
    categories: list[str]


def take_slice(
    session: WriteSession,
    runtime: Runtime,
    supplier_id: str,
    purpose: Purpose,
    field_keys: Sequence[str],
    *,
    max_price_per_customer: int = 0,
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> Slice:
    """The k-anonymous slice of `field_keys` over the customers whose consent permits it."""
    now = now or utcnow()
    settings = runtime.settings
    asked = fields.resolve(field_keys)
    # First: an undeclared purpose or category is refused before any customer is read or charged.
    require_declared(
        session,
        settings,
        supplier_id,
        purpose=purpose,
        categories=fields.categories(asked),
        release_kind=ReleaseKind.PSEUDONYMOUS_SLICE,
        now=now,
    )
    query = supplier_query(
        session,
        supplier_id=supplier_id,
        purpose=purpose,
        categories=fields.categories(asked),
        release_kind=ReleaseKind.PSEUDONYMOUS_SLICE,
        offered_price=max_price_per_customer,
        now=now,
    )
    candidates = list(repository.candidates(session, query, settings.slice_max_rows + 1))
    if len(candidates) > settings.slice_max_rows:
        raise SliceTooLarge(f"more than {settings.slice_max_rows} customers; narrow the purpose or fields")
    stored = profiles.values_of(session, runtime, candidates, [f.key for f in asked])
    # A customer holding none of the fields has nothing to release (and is not credited for nothing).
    holders = [cid for cid in candidates if stored.get(cid)]
    today = now.date()
    k = settings.slice_min_k
    top = max(f.levels for f in asked)
    decisions: dict[str, Decision] = {}
    pool = holders
    while True:

        def key(index: int, level: int, pool: list[str] = pool) -> tuple[Any, ...]:
            values = stored[pool[index]]
            return tuple(f.generalise(values.get(f.key), today, min(level, f.levels)) for f in asked)

        chosen = anonymity.enforce(len(pool), key, k, top, settings.slice_max_suppressed)
        undecided = [pool[i] for i in chosen.released if pool[i] not in decisions]
        decisions.update(evaluate_many(session, undecided, query))
        denied = {pool[i] for i in chosen.released if not decisions[pool[i]].permitted}
        if not denied:
            break
        # Consent changed since the set filter ran: drop those customers and anonymise the rest again.
        pool = [cid for cid in pool if cid not in denied]
    released = [pool[i] for i in chosen.released]
    entries = [decision_entry(runtime, cid, query, decisions[cid]) for cid in released]
    charge_for_release(
        session,
        supplier_id=supplier_id,
        customer_ids=released,
        price_per_customer=max_price_per_customer,
        idempotency_key=idempotency_key,
        credit_line=settings.supplier_credit_line,
    )
    release = pseudonyms.release_pseudonyms(runtime, supplier_id, released)
    rows = []
    for customer_id in released:
        values = stored[customer_id]
        row: dict[str, Any] = {"pseudonym": release.pseudonyms[customer_id]}
        for f in asked:
            value = f.generalise(values.get(f.key), today, min(chosen.level, f.levels))
            row[f.column] = list(value) if isinstance(value, tuple) else value
        rows.append(row)
    categories = sorted(c.value for c in fields.categories(asked))
    entries.append(
        {
            "kind": kinds.RELEASE,
            "at": format_at(now),
            "supplier_id": supplier_id,
            "purpose": purpose.value,
            "categories": categories,
            "release": {
                "kind": ReleaseKind.PSEUDONYMOUS_SLICE.value,
                "categories": categories,
                "count": len(rows),
                "epsilon_milli": 0,
            },
            "details": {
                "release_id": release.release_id,
                "price_per_customer": max_price_per_customer,
                "k": k,
                "generalisation_level": chosen.level,
                "suppressed": chosen.suppressed,
            },
        }
    )
    append_at_commit(session, entries)
    return Slice(
        release_id=release.release_id,
        columns=["pseudonym", *(f.column for f in asked)],
        rows=rows,
        k=k,
        level=chosen.level,
        suppressed=chosen.suppressed,
        price_per_customer=max_price_per_customer,
        categories=categories,
    )
