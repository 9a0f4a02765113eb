"""Canonical JSON (RFC 8785 JCS) encoding of policy-log entries.

The leaf hash commits to the exact entry bytes, so an entry must have one and
only one encoding: anyone re-serialising a decoded entry has to get the same
bytes back, or inclusion proofs would silently stop matching.  Hence:

* values are restricted to JSON's exact subset -- strings, booleans, null,
  integers within the IEEE 754 safe range (|n| <= 2**53 - 1, what JCS can
  represent exactly), lists and string-keyed objects.  Floats are accepted only
  when they are integral (they are stored as ints); fractions are rejected,
  because a policy log has no business storing rounded values;
* ``decode_entry`` accepts only bytes that are already canonical (it
  re-encodes and compares), so a client cannot smuggle a second spelling of an
  entry (whitespace, key order, escapes, duplicate keys) past the log;
* size and nesting depth are bounded so an entry cannot be used to exhaust
  memory or the stack.

Encoding has a fast path and a general one.  Every entry the log itself
writes is "plain": exact ``dict``/``list``/``str``/``int``/``bool``/``None``
values whose object keys are all ASCII.  For that subset the C JSON encoder
(sorted keys, no ASCII escaping, compact separators) is byte-identical to
RFC 8785: ASCII keys sort the same by code point as by UTF-16 code unit, and
the stdlib escapes exactly JCS's set (``"``, ``\\``, the five short control
escapes, other controls as lower-case ``\\u00xx``, everything else raw UTF-8).
``tests/unit/policylog/test_entry_fast.py`` checks that equivalence against
``rfc8785`` on generated values.  Anything else (int or str subclasses,
integral floats, tuples, non-ASCII keys, and every invalid input, so that the
error names the offending path) goes through ``_normalise`` and ``rfc8785``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import rfc8785

from infomediary.policylog.errors import EntryError

__all__ = ["MAX_DEPTH", "MAX_ENTRY_BYTES", "MAX_SAFE_INTEGER", "decode_entry", "encode_entry"]

MAX_ENTRY_BYTES = 64 * 1024
"""Largest encoded entry accepted; policy entries are small, this is a DoS bound."""

MAX_DEPTH = 32
"""Most objects/lists nested inside one another, counting the top-level object."""

MAX_SAFE_INTEGER = 2**53 - 1
"""Largest integer JCS can serialise exactly (it serialises numbers as IEEE 754 doubles)."""


def _normalise(value: Any, depth: int, path: str) -> Any:
    """Check ``value`` is in the exact JSON subset and return it with integral floats made ints.

    ``depth`` is the number of containers enclosing ``value``.
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise EntryError(f"integer at {path} is outside +/-(2**53 - 1)")
        return int(value)  # drop int subclasses (e.g. IntEnum) so encoding is plain
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise EntryError(f"number at {path} is not an integer; use an int or a string")
        return _normalise(int(value), depth, path)
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise EntryError(f"string at {path} is not valid Unicode (lone surrogate)") from None
        return str(value)
    if isinstance(value, Mapping | list | tuple) and depth >= MAX_DEPTH:
        raise EntryError(f"entry nests more than {MAX_DEPTH} objects/lists at {path}")
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise EntryError(f"object key {key!r} at {path} is not a string")
            out[_normalise(key, depth + 1, path)] = _normalise(item, depth + 1, f"{path}.{key}")
        return out
    if isinstance(value, list | tuple):
        return [_normalise(item, depth + 1, f"{path}[{i}]") for i, item in enumerate(value)]
    raise EntryError(f"value at {path} has unsupported type {type(value).__name__}")


class _NotPlain(Exception):
    """Internal: the value is outside the fast path's subset; take the general path."""


# Built once: json.dumps with non-default options constructs an encoder per call. No circularity check is
# needed because _check_plain bounds the depth first (a cycle would exceed it).
_PLAIN_ENCODER = json.JSONEncoder(
    ensure_ascii=False, check_circular=False, allow_nan=False, sort_keys=True, separators=(",", ":")
)


def _check_plain(value: Any, depth: int) -> None:
    """Raise ``_NotPlain`` unless ``value`` is already normal and its object keys are ASCII.

    Exact type checks on purpose: a subclass may serialise differently, so it is normalised first. Lone
    surrogates are not looked for here; the final UTF-8 encode of the whole text rejects them.
    """
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return
    if kind is int:
        if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            return
        raise _NotPlain
    if depth >= MAX_DEPTH:
        raise _NotPlain
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str or not key.isascii():
                raise _NotPlain
            _check_plain(item, depth + 1)
        return
    if kind is list:
        for item in value:
            _check_plain(item, depth + 1)
        return
    raise _NotPlain


def _encode_plain(entry: Mapping[str, Any]) -> bytes:
    """JCS bytes via the C encoder, for plain entries only (see the module docstring)."""
    if type(entry) is not dict:
        raise _NotPlain
    _check_plain(entry, 0)
    try:
        return _PLAIN_ENCODER.encode(entry).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: the general path reports where
        raise _NotPlain from None


def _encode_general(entry: Mapping[str, Any]) -> bytes:
    normalised = _normalise(entry, 0, "$")
    try:
        return rfc8785.dumps(normalised)
    except rfc8785.CanonicalizationError as exc:  # defensive: _normalise should catch all of these
        raise EntryError(f"entry cannot be canonicalised: {exc}") from None


def encode_entry(entry: Mapping[str, Any]) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of ``entry`` (a JSON object)."""
    if not isinstance(entry, Mapping):
        raise EntryError("a log entry must be a JSON object (mapping)")
    try:
        data = _encode_plain(entry)
    except _NotPlain:
        data = _encode_general(entry)
    if len(data) > MAX_ENTRY_BYTES:
        raise EntryError(f"encoded entry is {len(data)} bytes, limit is {MAX_ENTRY_BYTES}")
    return data


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise EntryError(f"duplicate object key {key!r}")
        result[key] = value
    return result


def _reject_constant(name: str) -> Any:
    raise EntryError(f"{name} is not valid JSON")


def _reject_float(text: str) -> Any:
    # Canonical entries never contain a fraction or exponent (integral floats
    # encode as plain integers), so any such literal is non-canonical or inexact.
    raise EntryError(f"number {text} is not a canonical integer")


def decode_entry(data: bytes) -> dict[str, Any]:
    """Parse canonical entry bytes; rejects anything ``encode_entry`` would not have produced."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise EntryError("entry must be bytes")
    raw = bytes(data)
    if len(raw) > MAX_ENTRY_BYTES:
        raise EntryError(f"entry is {len(raw)} bytes, limit is {MAX_ENTRY_BYTES}")
    try:
        text = raw.decode("utf-8")
        value = json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_constant=_reject_constant,
            parse_float=_reject_float,
        )
    except EntryError:
        raise  # from our hooks: already precise
    except UnicodeDecodeError:
        raise EntryError("entry is not valid UTF-8") from None
    except RecursionError:
        raise EntryError("entry is nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise EntryError(f"entry is not valid JSON: {exc.msg}") from None
    except ValueError:
        # e.g. an integer literal longer than Python's int-parsing digit limit.
        raise EntryError("entry contains an unparseable value") from None
    if not isinstance(value, dict):
        raise EntryError("a log entry must be a JSON object")
    if encode_entry(value) != raw:
        raise EntryError("entry is not in RFC 8785 canonical form")
    return value
