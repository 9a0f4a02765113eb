"""The customer's own view of the log: every entry about them, in plain words, each with its proof."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from infomediary.policylog import treehead, wording
from infomediary.policylog.checkpoint import open_checkpoint
from infomediary.policylog.entry import decode_entry
from infomediary.policylog.errors import CheckpointError, ProofError
from infomediary.policylog.merkle import leaf_hash
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
    head = treehead.latest(session)
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
