"""The customer's own view of the log: every entry about them, in plain words, each with its proof; and
what each supplier was allowed to take, from the decisions that permitted it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from infomediary.policylog import kinds, treehead, wording
from infomediary.policylog.checkpoint import open_checkpoint
from infomediary.policylog.entry import decode_entry
from infomediary.policylog.errors import CheckpointError, ProofError
from infomediary.policylog.merkle import leaf_hash
from infomediary.policylog.models import PolicyLogEntry
from infomediary.policylog.proof_verification import verify_inclusion
from infomediary.policylog.proofs import about_subject, inclusion_many
from infomediary.policylog.service import log_pseudonym
from infomediary.policylog.treehead import SignedTreeHead
from infomediary.runtime import Runtime
from infomediary.suppliers.models import Supplier


@dataclass(frozen=True)
class LogLine:
    leaf_index: int
    entry: bytes
    kind: str
    at: str
    text: str
    supplier_id: str | None
    decision: str | None
    # None while the entry is newer than the latest signed tree head.
    audit_path: list[bytes] | None


@dataclass(frozen=True)
class CustomerLog:
    lines: list[LogLine]
    next_cursor: int | None
    head: SignedTreeHead | None


def customer_log(
    session: Session,
    runtime: Runtime,
    customer_id: str,
    *,
    after: int = -1,
    limit: int,
    before: int | None = None,
    newest_first: bool = False,
) -> CustomerLog:
    """Entries about this customer after leaf `after` (newest first and before `before` if asked: the pages
    read that way), with audit paths against the latest signed head in the session's snapshot.

    Every proof is computed against a head whose nodes that snapshot holds. The request path signs a head
    first if one is due (`api.tree_heads`), before the request's snapshot is taken.
    """
    return customer_log_against(
        session,
        runtime,
        customer_id,
        treehead.latest(session),
        after=after,
        limit=limit,
        before=before,
        newest_first=newest_first,
    )


def customer_log_against(
    session: Session,
    runtime: Runtime,
    customer_id: str,
    head: SignedTreeHead | None,
    *,
    after: int = -1,
    limit: int,
    before: int | None = None,
    newest_first: bool = False,
) -> CustomerLog:
    """`customer_log` with audit paths against `head` (none with no head): a reader of many pages (the
    export) reads the head once, so that every page proves against the same one, whatever is signed
    meanwhile. Entries newer than `head` come without a path."""
    found = about_subject(
        session,
        log_pseudonym(runtime, customer_id),
        after=after,
        limit=limit + 1,
        before=before,
        newest_first=newest_first,
    )
    page, more = found[:limit], len(found) > limit
    paths = inclusion_many(session, [e.leaf_index for e in page], head.tree_size) if head else {}
    supplier_ids = {e.supplier_id for e in page if e.supplier_id}
    names: dict[str, str] = {}
    if supplier_ids:
        query = select(Supplier.id, Supplier.name).where(Supplier.id.in_(supplier_ids))
        names = {supplier_id: name for supplier_id, name in session.execute(query)}
    lines = []
    for stored in page:
        decoded = decode_entry(stored.entry)
        lines.append(
            LogLine(
                leaf_index=stored.leaf_index,
                entry=stored.entry,
                kind=stored.kind,
                at=str(decoded["at"]),
                text=wording.describe(decoded, names),
                supplier_id=stored.supplier_id,
                decision=stored.decision,
                audit_path=paths.get(stored.leaf_index),
            )
        )
    return CustomerLog(lines=lines, next_cursor=page[-1].leaf_index if more else None, head=head)


def verified_leaves(runtime: Runtime, log: CustomerLog) -> set[int]:
    """The leaves of `log` whose inclusion proof leads to the root of a tree head signed by the log's key.

    The page shows a mark for these; an entry newer than the head (no proof yet) or one that fails is left
    unmarked, never marked. The signature is checked against the published verifier key, not trusted as read.
    """
    if log.head is None:
        return set()
    try:
        checkpoint = open_checkpoint(
            log.head.checkpoint, treehead.verifier_key(runtime), runtime.settings.resolved_log_origin
        )
    except CheckpointError:
        return set()
    verified = set()
    for line in log.lines:
        if line.audit_path is None:
            continue
        try:
            verify_inclusion(
                leaf_hash(line.entry), line.leaf_index, checkpoint.size, line.audit_path, checkpoint.root_hash
            )
        except ProofError:
            continue
        verified.add(line.leaf_index)
    return verified


@dataclass(frozen=True)
class Permitted:
    """One decision that let a supplier use the customer's data: the release it allowed, as logged."""

    leaf_index: int
    at: str
    purpose: str | None
    categories: list[str]
    release_kind: str | None
    reason: str


def _permits(runtime: Runtime, customer_id: str) -> Select[PolicyLogEntry]:
    # Only per-customer decisions name her; a release entry (a slice's, an offer's) is about many customers
    # and names none, so her side of each release is the decision that admitted her to it.
    e = PolicyLogEntry
    return select(e).where(
        e.subject == log_pseudonym(runtime, customer_id), e.kind == kinds.DECISION, e.decision == kinds.PERMIT
    )


def suppliers_permitted(session: Session, runtime: Runtime, customer_id: str) -> list[str]:
    """The suppliers that a logged decision ever allowed to use this customer's data."""
    query = _permits(runtime, customer_id).with_only_columns(PolicyLogEntry.supplier_id).distinct()
    return sorted(s for s in session.scalars(query) if s is not None)


def permitted_to(
    session: Session, runtime: Runtime, customer_id: str, supplier_id: str, *, after: int = -1, limit: int
) -> list[Permitted]:
    """The decisions that allowed `supplier_id` to use this customer's data, after leaf `after`, oldest
    first."""
    rows = session.scalars(
        _permits(runtime, customer_id)
        .where(PolicyLogEntry.supplier_id == supplier_id, PolicyLogEntry.leaf_index > after)
        .order_by(PolicyLogEntry.leaf_index)
        .limit(limit)
    )
    found = []
    for row in rows:
        decoded = decode_entry(row.entry)
        details = decoded.get("details") or {}
        release_kind = details.get("release_kind")
        found.append(
            Permitted(
                leaf_index=row.leaf_index,
                at=str(decoded["at"]),
                purpose=decoded.get("purpose"),
                categories=list(decoded.get("categories") or []),
                release_kind=release_kind if isinstance(release_kind, str) else None,
                reason=str(decoded.get("reason", "")),
            )
        )
    return found
