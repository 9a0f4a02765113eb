"""OpenAPI links: which value of one operation's answer the next operation takes, for clients and for the
stateful fuzzer (`tests/api/test_fuzz.py`)."""

from __future__ import annotations

from typing import Any


def link(path: str, method: str, **fields: Any) -> dict[str, Any]:
    """A link to `method path` by `operationRef` (stable, unlike generated operation ids); `fields` are the
    link's own (`parameters`, `requestBody`) holding runtime expressions such as `$response.body#/id`."""
    pointer = path.replace("~", "~0").replace("/", "~1")
    return {"operationRef": f"#/paths/{pointer}/{method}", **fields}
