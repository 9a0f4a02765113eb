"""Writing the log to a dump file that `infomediary audit verify --file` checks offline."""

from __future__ import annotations

import base64
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from infomediary.policylog import treehead
from infomediary.policylog.errors import NoTreeHead
from infomediary.policylog.models import PolicyLogEntry
from infomediary.policylog.offline_verifier import DUMP_FORMAT
from infomediary.runtime import Runtime


def export_dump(session: Session, runtime: Runtime) -> dict[str, Any]:
    """The latest signed head and every entry it covers, as the exact bytes (base64), in leaf order."""
    head = treehead.latest(session)
    if head is None:
        raise NoTreeHead("no tree head has been signed yet; run `infomediary audit sign-tree-head`")
    rows = session.execute(
        select(PolicyLogEntry.entry)
        .where(PolicyLogEntry.leaf_index < head.tree_size)
        .order_by(PolicyLogEntry.leaf_index)
        .execution_options(yield_per=10_000)
    )
    return {
        "format": DUMP_FORMAT,
        "origin": runtime.settings.resolved_log_origin,
        "verifier_key": treehead.verifier_key(runtime),
        "tree_head": {
            "tree_size": head.tree_size,
            "timestamp": head.timestamp_ms,
            "sha256_root_hash": base64.b64encode(head.root_hash).decode(),
            "checkpoint": head.checkpoint,
        },
        "entries": [base64.b64encode(bytes(data)).decode() for (data,) in rows],
    }
