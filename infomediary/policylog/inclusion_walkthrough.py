"""Checking that one entry is in the log as a signed tree head commits to it, step by step.

The auditor view shows each step's outcome: the checkpoint's Ed25519 signature under the published verifier
key, the entry's leaf hash, and the RFC 9162 inclusion proof from that leaf to the checkpoint's root. The
checkpoint may be one the auditor kept from earlier (pasted in), so the check does not rest on trusting
what the server says its latest head is.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from infomediary.policylog import treehead
from infomediary.policylog.checkpoint import Checkpoint, open_checkpoint
from infomediary.policylog.errors import BadLogRange, NoTreeHead, PolicyLogError
from infomediary.policylog.merkle import leaf_hash
from infomediary.policylog.models import PolicyLogEntry
from infomediary.policylog.proof_verification import verify_inclusion
from infomediary.policylog.proofs import inclusion
from infomediary.runtime import Runtime

MAX_CHECKPOINT = 4096


@dataclass(frozen=True)
class InclusionCheck:
    leaf_index: int
    tree_size: int
    root_hash: bytes
    leaf_hash: bytes
    audit_path: list[bytes]
    signature_ok: bool
    proof_ok: bool
    problem: str | None
    entry: bytes

    @property
    def verified(self) -> bool:
        return self.signature_ok and self.proof_ok


def check_inclusion(
    session: Session, runtime: Runtime, leaf_index: int, checkpoint: str | None = None
) -> InclusionCheck:
    """Verify leaf `leaf_index` against `checkpoint` (a signed note), or the latest signed tree head."""
    if checkpoint is None or not checkpoint.strip():
        head = treehead.latest(session)
        if head is None:
            raise NoTreeHead()
        checkpoint = head.checkpoint
    if len(checkpoint) > MAX_CHECKPOINT:
        raise BadLogRange(f"a checkpoint is at most {MAX_CHECKPOINT} characters")
    # Browsers send textarea lines as CRLF; a note is LF-separated and ends with one.
    note = checkpoint.replace("\r\n", "\n").strip("\n") + "\n"
    row = session.get(PolicyLogEntry, leaf_index)
    if row is None:
        raise BadLogRange(f"there is no entry {leaf_index}")
    entry = bytes(row.entry)
    digest = leaf_hash(entry)
    opened: Checkpoint | None = None
    try:
        opened = open_checkpoint(note, treehead.verifier_key(runtime), runtime.settings.resolved_log_origin)
    except PolicyLogError as exc:
        return InclusionCheck(leaf_index, 0, b"", digest, [], False, False, f"signature: {exc}", entry)
    if leaf_index >= opened.size:
        problem = f"entry {leaf_index} is newer than this tree head (size {opened.size})"
        return InclusionCheck(
            leaf_index, opened.size, opened.root_hash, digest, [], True, False, problem, entry
        )
    try:
        path = inclusion(session, leaf_index, opened.size)
    except BadLogRange:
        # A validly signed head for more entries than the log now holds: entries were removed.
        problem = f"the log holds fewer entries than this signed tree head (size {opened.size})"
        return InclusionCheck(
            leaf_index, opened.size, opened.root_hash, digest, [], True, False, problem, entry
        )
    try:
        verify_inclusion(digest, leaf_index, opened.size, path, opened.root_hash)
    except PolicyLogError as exc:
        return InclusionCheck(
            leaf_index, opened.size, opened.root_hash, digest, path, True, False, f"proof: {exc}", entry
        )
    return InclusionCheck(leaf_index, opened.size, opened.root_hash, digest, path, True, True, None, entry)
