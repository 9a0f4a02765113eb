"""An independent k-anonymity check for released slices: written apart from `infomediary.slices.anonymity`."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

# Every column but the pseudonym is a quasi-identifier: a column two slices share is a join key.
KEY = "pseudonym"
IDENTITY = ("given_name", "family_name", "email", "phone", "street_address")


def smallest_class(rows: Iterable[Mapping[str, Any]]) -> int | None:
    """Size of the smallest group of rows agreeing on every column they carry but the pseudonym (None if
    empty)."""
    groups: dict[str, int] = defaultdict(int)
    for row in rows:
        key = json.dumps({c: v for c, v in row.items() if c != KEY}, sort_keys=True)
        groups[key] += 1
    return min(groups.values()) if groups else None


def assert_k_anonymous(rows: list[Mapping[str, Any]], k: int) -> None:
    smallest = smallest_class(rows)
    assert smallest is None or smallest >= k, f"a class of {smallest} rows is below k={k}"
    for row in rows:
        assert not set(IDENTITY) & set(row), row
