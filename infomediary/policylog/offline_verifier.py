"""The offline verifier: trust nothing the log serves until it is recomputed here.

It checks the tree head's Ed25519 signature (against a pinned verifier key when given), recomputes every
leaf hash from the exact entry bytes and the root from those leaves with ``ReferenceTree`` (the RFC's
literal recursive definition, independent of the perfect-node builders the server uses), checks sampled
inclusion proofs, and, given a tree head seen earlier, checks the log is a consistent extension of it: a
rolled-back or forked log fails. Any mismatch raises ``VerificationFailed`` with a message saying what.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from infomediary.policylog.checkpoint import Checkpoint, open_checkpoint, parse_verifier_key
from infomediary.policylog.entry import decode_entry
from infomediary.policylog.errors import PolicyLogError
from infomediary.policylog.merkle import ReferenceTree
from infomediary.policylog.proof_verification import verify_consistency, verify_inclusion

DUMP_FORMAT = "infomediary-policy-log-dump/1"
STATE_FORMAT = "infomediary-policy-log-state/1"
PAGE = 1000


class VerificationFailed(Exception):
    """The log does not verify; the message says what did not match."""


@dataclass(frozen=True)
class SeenHead:
    """A tree head this verifier checked, kept to detect a later rollback or fork."""

    origin: str
    tree_size: int
    root_hash: bytes
    checkpoint: str

    def to_json(self) -> dict[str, Any]:
        return {
            "format": STATE_FORMAT,
            "origin": self.origin,
            "tree_size": self.tree_size,
            "sha256_root_hash": base64.b64encode(self.root_hash).decode(),
            "checkpoint": self.checkpoint,
        }

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> SeenHead:
        if body.get("format") != STATE_FORMAT:
            raise VerificationFailed("the state file is not an infomediary policy-log state")
        return cls(
            origin=str(body["origin"]),
            tree_size=int(body["tree_size"]),
            root_hash=_unb64(str(body["sha256_root_hash"]), "state root hash"),
            checkpoint=str(body["checkpoint"]),
        )


@dataclass(frozen=True)
class VerifyResult:
    head: SeenHead
    entries: int
    consistent_with: int | None
    key_pinned: bool


def load_state(path: Path) -> SeenHead | None:
    if not path.exists():
        return None
    try:
        return SeenHead.from_json(json.loads(path.read_text()))
    except (ValueError, KeyError, TypeError) as exc:
        raise VerificationFailed(f"cannot read the state file {path}: {exc}") from None


def save_state(path: Path, head: SeenHead) -> None:
    path.write_text(json.dumps(head.to_json(), indent=2) + "\n")


def _unb64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise VerificationFailed(f"{what} is not valid base64") from None


def _open_head(tree_head: Mapping[str, Any], verifier_key: str) -> tuple[Checkpoint, SeenHead]:
    """Verify the signed checkpoint, then check the JSON fields say the same as the signed text."""
    try:
        key = parse_verifier_key(verifier_key)
        checkpoint = open_checkpoint(str(tree_head["checkpoint"]), key, key.name)
    except (PolicyLogError, KeyError) as exc:
        raise VerificationFailed(f"tree head signature does not verify: {exc}") from None
    if tree_head.get("tree_size") != checkpoint.size:
        raise VerificationFailed("tree head JSON size differs from the signed checkpoint")
    if _unb64(str(tree_head.get("sha256_root_hash", "")), "root hash") != checkpoint.root_hash:
        raise VerificationFailed("tree head JSON root differs from the signed checkpoint")
    stamps = [e for e in checkpoint.extensions if e.startswith("timestamp ")]
    if stamps and stamps[0] != f"timestamp {tree_head.get('timestamp')}":
        raise VerificationFailed("tree head JSON timestamp differs from the signed checkpoint")
    head = SeenHead(checkpoint.origin, checkpoint.size, checkpoint.root_hash, str(tree_head["checkpoint"]))
    return checkpoint, head


def _recompute(entries: Iterable[tuple[int, bytes]], head: SeenHead) -> ReferenceTree:
    """Leaf hashes from the entry bytes, in order with no gaps, and the root from them alone."""
    tree = ReferenceTree()
    for expected, (index, data) in enumerate(entries):
        if index != expected:
            raise VerificationFailed(f"entry {expected} is missing (got leaf_index {index} instead)")
        try:
            decode_entry(data)
        except PolicyLogError as exc:
            raise VerificationFailed(f"entry {index} is not canonical: {exc}") from None
        tree.append_entry(data)
    if len(tree) != head.tree_size:
        raise VerificationFailed(
            f"the log served {len(tree)} entries for a tree head of size {head.tree_size}"
        )
    if not hmac.compare_digest(tree.root(), head.root_hash):
        raise VerificationFailed(
            f"the root recomputed from the {len(tree)} entries differs from the signed root: "
            "an entry was changed, removed, reordered or inserted"
        )
    return tree


def _check_previous(tree: ReferenceTree, head: SeenHead, previous: SeenHead | None) -> int | None:
    """The recomputed tree must extend the head seen before (same origin, at least as large, same prefix)."""
    if previous is None:
        return None
    if previous.origin != head.origin:
        raise VerificationFailed(f"the state file is for log {previous.origin!r}, not {head.origin!r}")
    if head.tree_size < previous.tree_size:
        raise VerificationFailed(
            f"rollback: the log now has {head.tree_size} entries but a tree head of size "
            f"{previous.tree_size} was seen before"
        )
    if not hmac.compare_digest(tree.root(previous.tree_size), previous.root_hash):
        raise VerificationFailed(
            f"inconsistent with the tree head of size {previous.tree_size} seen before: "
            "the log was rolled back or forked"
        )
    return previous.tree_size


def _sample(size: int) -> list[int]:
    return sorted({0, size // 3, size // 2, size - 1}) if size else []


# ---------------------------------------------------------------------------
# File mode
# ---------------------------------------------------------------------------


def verify_dump(
    dump: Mapping[str, Any], *, verifier_key: str | None = None, previous: SeenHead | None = None
) -> VerifyResult:
    """Verify a dump written by `infomediary audit export`."""
    if dump.get("format") != DUMP_FORMAT:
        raise VerificationFailed("not an infomediary policy-log dump")
    key = verifier_key or str(dump.get("verifier_key", ""))
    _, head = _open_head(dump.get("tree_head") or {}, key)
    raw = dump.get("entries")
    if not isinstance(raw, list):
        raise VerificationFailed("the dump has no entry list")
    data = ((i, _unb64(str(text), f"entry {i}")) for i, text in enumerate(raw))
    tree = _recompute(data, head)
    return VerifyResult(head, len(tree), _check_previous(tree, head, previous), verifier_key is not None)


# ---------------------------------------------------------------------------
# Remote mode
# ---------------------------------------------------------------------------


def _get(client: httpx.Client, path: str, token: str | None = None, **params: int) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        response = client.get(path, params=params, headers=headers)
    except httpx.HTTPError as exc:
        raise VerificationFailed(f"cannot fetch {path}: {exc.__class__.__name__}: {exc}") from None
    if response.status_code != 200:
        raise VerificationFailed(f"{path} answered {response.status_code}: {response.text[:300]}")
    return response.json()


def _token(client: httpx.Client, client_id: str, client_secret: str) -> str:
    try:
        response = client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials", "scope": "audit:read"},
            auth=(client_id, client_secret),
        )
    except httpx.HTTPError as exc:
        raise VerificationFailed(f"cannot reach the token endpoint: {exc}") from None
    if response.status_code != 200:
        raise VerificationFailed(f"the token endpoint refused the credentials ({response.status_code})")
    return str(response.json()["access_token"])


def fetch_entries(client: httpx.Client, token: str, size: int) -> Iterable[tuple[int, bytes]]:
    start = 0
    while start < size:
        page = _get(client, "/v1/audit/entries", token, start=start, end=min(size, start + PAGE) - 1)[
            "entries"
        ]
        if not page:
            raise VerificationFailed(f"the log served no entries from {start} (tree size {size})")
        for item in page:
            yield int(item["leaf_index"]), _unb64(str(item["leaf_input"]), f"entry {item['leaf_index']}")
        start += len(page)


def verify_remote(
    client: httpx.Client,
    *,
    client_id: str,
    client_secret: str,
    verifier_key: str | None = None,
    previous: SeenHead | None = None,
) -> VerifyResult:
    """Fetch the signed head, every entry and sample proofs from a running service, and verify them."""
    token = _token(client, client_id, client_secret)
    key = verifier_key or str(_get(client, "/.well-known/policy-log-key")["verifier_key"])
    _, head = _open_head(_get(client, "/v1/audit/tree-head", token), key)
    tree = _recompute(fetch_entries(client, token, head.tree_size), head)
    for index in _sample(head.tree_size):
        body = _get(client, "/v1/audit/proofs/inclusion", token, leaf_index=index, tree_size=head.tree_size)
        path = [_unb64(str(p), "audit path") for p in body["audit_path"]]
        try:
            verify_inclusion(tree.leaves[index], index, head.tree_size, path, head.root_hash)
        except PolicyLogError as exc:
            raise VerificationFailed(
                f"the inclusion proof served for entry {index} does not verify: {exc}"
            ) from None
    consistent_with = _check_previous(tree, head, previous)
    if previous is not None and previous.tree_size < head.tree_size:
        body = _get(
            client, "/v1/audit/proofs/consistency", token, first=previous.tree_size, second=head.tree_size
        )
        proof = [_unb64(str(p), "consistency proof") for p in body["consistency"]]
        try:
            verify_consistency(previous.tree_size, head.tree_size, previous.root_hash, head.root_hash, proof)
        except PolicyLogError as exc:
            raise VerificationFailed(
                f"the consistency proof from size {previous.tree_size} does not verify: {exc}"
            ) from None
    return VerifyResult(head, len(tree), consistent_with, verifier_key is not None)
