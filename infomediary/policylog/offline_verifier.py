"""The offline verifier: trust nothing the log serves until it is recomputed here.

It checks the tree head's Ed25519 signature against a pinned verifier key, recomputes every
leaf hash from the exact entry bytes and the root from those leaves with ``ReferenceTree`` (the RFC's
literal recursive definition, independent of the perfect-node builders the server uses), checks sampled
inclusion proofs, and, given a tree head seen earlier, checks the log is a consistent extension of it: a
rolled-back or forked log fails. Any mismatch raises ``VerificationFailed`` with a message saying what.

The key is never taken on trust from what is being verified: a dump, or a server, that carries its own key
could be truncated and re-signed with another one and still be self-consistent. It is pinned by the caller
(the whole C2SP verifier key, or its fingerprint from the operator), or by a state file from an earlier run,
or, over HTTP only and when asked, pinned on first use into that state file.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from infomediary.policylog.checkpoint import (
    Checkpoint,
    open_checkpoint,
    parse_verifier_key,
    verifier_key_string,
)
from infomediary.policylog.entry import decode_entry
from infomediary.policylog.errors import PolicyLogError
from infomediary.policylog.merkle import ReferenceTree
from infomediary.policylog.proof_verification import verify_consistency, verify_inclusion

DUMP_FORMAT = "infomediary-policy-log-dump/1"
STATE_FORMAT = "infomediary-policy-log-state/1"
PAGE = 1000
FINGERPRINT_PREFIX = "sha256:"

NOT_PINNED = (
    "no verifier key is pinned, and a log's own key proves nothing (a truncated log re-signed with another "
    "key is self-consistent). Pin it with --verifier-key, giving the log's verifier key or its fingerprint "
    "(sha256:..., which the operator prints with `infomediary audit key` and publishes), or with --state, "
    "giving a state file from an earlier run that pinned it"
)
# The service never rotates the log's signing key (`keys rotate-signing` rotates the token keys only), so a
# different key is never a rotation the verifier could follow: it is refused.
NOT_ROTATED = (
    "this log's signing key is not rotated by the service; if the operator replaced it, they must publish "
    "the new key, and you verify with it (--verifier-key) and a new state file"
)


class VerificationFailed(Exception):
    """The log does not verify; the message says what did not match."""


@dataclass(frozen=True)
class SeenHead:
    """A tree head this verifier checked, kept to detect a later rollback or fork."""

    origin: str
    tree_size: int
    root_hash: bytes
    checkpoint: str
    verifier_key: str | None = None
    """The key the head verified with, pinned for later runs (None in a state file written before pinning)."""

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "format": STATE_FORMAT,
            "origin": self.origin,
            "tree_size": self.tree_size,
            "sha256_root_hash": base64.b64encode(self.root_hash).decode(),
            "checkpoint": self.checkpoint,
        }
        if self.verifier_key is not None:
            body["verifier_key"] = self.verifier_key
            body["verifier_key_fingerprint"] = key_fingerprint(self.verifier_key)
        return body

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> SeenHead:
        if body.get("format") != STATE_FORMAT:
            raise VerificationFailed("the state file is not an infomediary policy-log state")
        return cls(
            origin=str(body["origin"]),
            tree_size=int(body["tree_size"]),
            root_hash=_unb64(str(body["sha256_root_hash"]), "state root hash"),
            checkpoint=str(body["checkpoint"]),
            verifier_key=_canonical(str(body["verifier_key"])) if body.get("verifier_key") else None,
        )


@dataclass(frozen=True)
class VerifyResult:
    head: SeenHead
    entries: int
    consistent_with: int | None
    pinned_on_first_use: bool
    """The key came from the server itself, this once, and is now pinned in the state (say so)."""


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


def _canonical(verifier_key: str) -> str:
    """The one spelling of a verifier key (its key id in lower-case hex), so pins compare byte for byte."""
    try:
        key = parse_verifier_key(verifier_key)
    except PolicyLogError as exc:
        raise VerificationFailed(f"not a verifier key ({exc})") from None
    return verifier_key_string(key.name, key.public_key)


def key_fingerprint(verifier_key: str) -> str:
    """SHA-256 of the whole canonical verifier key (origin, key id and key): short enough to read out and
    compare, and unlike the 4-byte key id, not forgeable."""
    return FINGERPRINT_PREFIX + hashlib.sha256(_canonical(verifier_key).encode("utf-8")).hexdigest()


def _is_fingerprint(pin: str) -> bool:
    # A verifier key always has two "+" separators; a fingerprint has none.
    return "+" not in pin


def _trusted_key(
    offered: str,
    where: str,
    *,
    verifier_key: str | None,
    previous: SeenHead | None,
    trust_on_first_use: bool = False,
) -> tuple[str, bool]:
    """The key to verify with, and whether it was pinned on first use. `offered` is the key that came with
    what is verified (the dump's, or the server's well-known one): used only if a pin says it is the one."""
    pinned = previous.verifier_key if previous is not None else None
    if verifier_key is not None:
        if _is_fingerprint(verifier_key):
            if key_fingerprint(offered) != verifier_key.strip().lower():
                raise VerificationFailed(
                    f"{where} has key {key_fingerprint(offered)}, not the pinned fingerprint {verifier_key}"
                )
            given = _canonical(offered)
        else:
            given = _canonical(verifier_key)
        if pinned is not None and given != pinned:
            raise VerificationFailed(
                f"--verifier-key is {key_fingerprint(given)}, but the state file pinned "
                f"{key_fingerprint(pinned)}: {NOT_ROTATED}"
            )
        return given, False
    if pinned is not None:
        if _canonical(offered) != pinned:
            raise VerificationFailed(
                f"{where} has key {key_fingerprint(offered)}, not the key pinned in the state file, "
                f"{key_fingerprint(pinned)}: {NOT_ROTATED}"
            )
        return pinned, False
    if trust_on_first_use:
        return _canonical(offered), True
    raise VerificationFailed(NOT_PINNED)


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
    head = SeenHead(
        checkpoint.origin, checkpoint.size, checkpoint.root_hash, str(tree_head["checkpoint"]), verifier_key
    )
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
    """Verify a dump written by `infomediary audit export`, against `verifier_key` (a key or fingerprint) or
    the key pinned in `previous`; the dump's own key is never enough."""
    if dump.get("format") != DUMP_FORMAT:
        raise VerificationFailed("not an infomediary policy-log dump")
    key, _ = _trusted_key(
        str(dump.get("verifier_key", "")), "the dump", verifier_key=verifier_key, previous=previous
    )
    _, head = _open_head(dump.get("tree_head") or {}, key)
    raw = dump.get("entries")
    if not isinstance(raw, list):
        raise VerificationFailed("the dump has no entry list")
    data = ((i, _unb64(str(text), f"entry {i}")) for i, text in enumerate(raw))
    tree = _recompute(data, head)
    return VerifyResult(head, len(tree), _check_previous(tree, head, previous), False)


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
    trust_on_first_use: bool = False,
) -> VerifyResult:
    """Fetch the signed head, every entry and sample proofs from a running service, and verify them against
    `verifier_key` (a key or fingerprint) or the key pinned in `previous`. With neither, and
    `trust_on_first_use`, the server's published key is taken this once (the caller pins it)."""
    token = _token(client, client_id, client_secret)
    # Fetched even when pinned: a server now publishing another key is refused with a message that says so.
    published = str(_get(client, "/.well-known/policy-log-key")["verifier_key"])
    key, first_use = _trusted_key(
        published,
        "the server's /.well-known/policy-log-key",
        verifier_key=verifier_key,
        previous=previous,
        trust_on_first_use=trust_on_first_use,
    )
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
    return VerifyResult(head, len(tree), consistent_with, first_use)
