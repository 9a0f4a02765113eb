"""The fast entry encoder is byte-identical to RFC 8785 (the `rfc8785` package) on the subset it takes."""

from __future__ import annotations

import enum
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from infomediary.policylog import entry as entry_module
from infomediary.policylog.entry import MAX_DEPTH, MAX_SAFE_INTEGER, encode_entry
from infomediary.policylog.errors import EntryError

# Any Unicode scalar value (no lone surrogates): controls, quotes, backslashes, U+2028, astral characters.
any_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
# Characters JCS escapes or sorts specially, drawn often so they meet each other.
tricky_text = st.text(
    st.sampled_from(['"', "\\", "/", "\x00", "\x1f", "\x7f", "\b", "\f", "\n", "\r", "\t", "\u2028", "é"])
    | st.sampled_from(["\ue000", "\uffff", "\U0001f600", "\U0010ffff", "a", "_", "Z"]),
    max_size=8,
)
ascii_keys = st.text(st.characters(max_codepoint=0x7F), max_size=8)
snake_keys = st.from_regex(r"[a-z][a-z0-9_]{0,15}", fullmatch=True)
scalars = (
    st.none() | st.booleans() | st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER) | any_text | tricky_text
)


def values(keys: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    return st.recursive(
        scalars,
        lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=4),
        max_leaves=25,
    )


def objects(keys: st.SearchStrategy[str]) -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(keys, values(keys), max_size=8)


@settings(max_examples=500, deadline=None)
@given(objects(ascii_keys | snake_keys))
def test_fast_path_matches_rfc8785(entry: dict[str, Any]) -> None:
    fast = entry_module._encode_plain(entry)  # raises _NotPlain if the value left the fast path
    assert fast == rfc8785.dumps(entry)
    assert encode_entry(entry) == fast


@settings(max_examples=300, deadline=None)
@given(objects(any_text | tricky_text))
def test_any_keys_match_rfc8785(entry: dict[str, Any]) -> None:
    # Non-ASCII keys (e.g. U+E000 vs U+1F600, which UTF-16 and code points order differently) take the
    # general path; either way the bytes are JCS.
    assert encode_entry(entry) == rfc8785.dumps(entry)


class Level(enum.IntEnum):
    LOW = 1


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({"n": Level.LOW}, b'{"n":1}'),
        ({"f": 3.0}, b'{"f":3}'),
        ({"t": (1, 2)}, b'{"t":[1,2]}'),
        ({"\U0001f600": 1, "\ue000": 2}, '{"\U0001f600":1,"\ue000":2}'.encode()),
    ],
)
def test_values_outside_the_subset_are_normalised_first(entry: dict[str, Any], expected: bytes) -> None:
    with pytest.raises(entry_module._NotPlain):
        entry_module._encode_plain(entry)
    assert encode_entry(entry) == expected


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"a": {"b": "\ud800"}}, r"\$\.a\.b is not valid Unicode"),
        ({"\ud800": 1}, "not valid Unicode"),
        ({"a": [MAX_SAFE_INTEGER + 1]}, r"\$\.a\[0\] is outside"),
        ({"a": 1.5}, "not an integer"),
    ],
)
def test_fast_path_rejections_keep_precise_errors(entry: dict[str, Any], message: str) -> None:
    with pytest.raises(EntryError, match=message):
        encode_entry(entry)


def test_depth_bound_holds_on_the_fast_path() -> None:
    deep: Any = 0
    for _ in range(MAX_DEPTH - 1):
        deep = [deep]
    assert encode_entry({"x": deep}) == rfc8785.dumps({"x": deep})
    with pytest.raises(EntryError, match="nests more than"):
        encode_entry({"x": [deep]})
