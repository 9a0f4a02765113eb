"""Canonical-JSON entry tests: JCS key order and string escaping, exactness, strict decoding."""

from __future__ import annotations

import enum
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infomediary.policylog.entry import (
    MAX_DEPTH,
    MAX_ENTRY_BYTES,
    MAX_SAFE_INTEGER,
    decode_entry,
    encode_entry,
)
from infomediary.policylog.errors import EntryError


def test_keys_sorted_by_utf16_code_units_and_no_whitespace() -> None:
    # RFC 8785 section 3.2.3 sorts by UTF-16 code units: U+E000 (one unit 0xE000)
    # sorts *after* U+1F600 (surrogate pair starting 0xD83D), unlike code-point order.
    entry = {"b": 1, "a": {"z": True, "y": None}, "\ue000": 2, "\U0001f600": 3}
    assert encode_entry(entry) == ('{"a":{"y":null,"z":true},"b":1,"\U0001f600":3,"\ue000":2}'.encode())


def test_string_escaping_is_minimal() -> None:
    # Only " \\ and control characters are escaped; other Unicode is raw UTF-8.
    entry = {"s": 'q"b\\\n\t\x01\u00e9\u2028/'}
    assert encode_entry(entry) == b'{"s":"q\\"b\\\\\\n\\t\\u0001\xc3\xa9\xe2\x80\xa8/"}'


def test_integers_and_integral_floats() -> None:
    assert encode_entry({"n": MAX_SAFE_INTEGER, "m": -MAX_SAFE_INTEGER, "f": 2.0}) == (
        b'{"f":2,"m":-9007199254740991,"n":9007199254740991}'
    )


class Colour(enum.IntEnum):
    RED = 1


def test_int_subclass_encodes_as_plain_int() -> None:
    assert encode_entry({"c": Colour.RED}) == b'{"c":1}'


@pytest.mark.parametrize(
    "entry",
    [
        {"x": 1.5},
        {"x": float("nan")},
        {"x": float("inf")},
        {"x": MAX_SAFE_INTEGER + 1},
        {"x": -MAX_SAFE_INTEGER - 1},
        {"x": 2.0**53},
        {"x": "\ud800"},
        {"x": b"bytes"},
        {"x": {1, 2}},
        {1: "int key"},
        {"x": {"nested": {3: 4}}},
    ],
)
def test_encode_rejects_inexact_or_unsupported(entry: Any) -> None:
    with pytest.raises(EntryError):
        encode_entry(entry)


def test_encode_rejects_non_object_top_level() -> None:
    with pytest.raises(EntryError, match="object"):
        encode_entry([1, 2])  # type: ignore[arg-type]


def test_size_and_depth_bounds() -> None:
    encode_entry({"x": "a" * (MAX_ENTRY_BYTES - 8)})  # 8 bytes of {"x":""} framing: exactly at limit
    with pytest.raises(EntryError, match="limit"):
        encode_entry({"x": "a" * (MAX_ENTRY_BYTES - 7)})
    with pytest.raises(EntryError, match="limit"):
        decode_entry(b" " * (MAX_ENTRY_BYTES + 1))
    deep: Any = 0
    for _ in range(MAX_DEPTH - 1):
        deep = [deep]
    encode_entry({"x": deep})  # top-level object + 31 lists = MAX_DEPTH containers
    with pytest.raises(EntryError, match="nests more than"):
        encode_entry({"x": [deep]})
    with pytest.raises(EntryError):
        decode_entry(b'{"x":' + b"[" * 20000 + b"]" * 20000 + b"}")


@pytest.mark.parametrize(
    "data",
    [
        b'{"b":1,"a":2}',  # key order
        b'{"a": 1}',  # whitespace
        b'{"a":1}\n',  # trailing newline
        b'\xef\xbb\xbf{"a":1}',  # BOM
        b'{"a":"\\u00e9"}',  # needless escape
        b'{"a":"\\/"}',  # needless escape of solidus
        b'{"a":1.0}',  # fraction in an integral number
        b'{"a":1e2}',  # exponent
        b'{"a":1.5}',  # non-integer
        b'{"a":-0}',  # negative zero spelling
        b'{"a":01}',  # not JSON
        b'{"a":NaN}',
        b'{"a":Infinity}',
        b'{"a":1,"a":1}',  # duplicate key
        b'{"a":"\\ud800"}',  # lone surrogate
        b'{"a":9007199254740992}',  # outside safe range
        b"[1]",  # not an object
        b'"str"',
        b"\xff",  # not UTF-8
        b'{"a":' + b"9" * 5000 + b"}",  # past Python's int-parsing digit limit
        b"",
    ],
)
def test_decode_rejects_non_canonical(data: bytes) -> None:
    with pytest.raises(EntryError):
        decode_entry(data)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER)
    | st.text(st.characters(exclude_categories=["Cs"])),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(st.characters(exclude_categories=["Cs"]), max_size=6), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=8), json_values, max_size=6))
def test_round_trip_and_idempotence(entry: dict[str, Any]) -> None:
    data = encode_entry(entry)
    decoded = decode_entry(data)
    assert decoded == entry
    assert encode_entry(decoded) == data


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.text(max_size=8), st.integers(-1000, 1000), min_size=2, max_size=6))
def test_key_order_of_input_does_not_matter(entry: dict[str, int]) -> None:
    reversed_entry = dict(reversed(list(entry.items())))
    assert encode_entry(reversed_entry) == encode_entry(entry)
