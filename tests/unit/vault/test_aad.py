"""Associated data must be unambiguous: different contexts never share associated data."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vault.aad import encode_parts
from vault.envelope import field_aad

parts = st.lists(st.binary(max_size=12), max_size=5)


@given(parts, parts)
def test_encode_parts_is_injective(a: list[bytes], b: list[bytes]) -> None:
    assert (encode_parts(*a) == encode_parts(*b)) == (a == b)


def test_naive_concatenation_collisions_are_distinguished() -> None:
    assert encode_parts(b"ab", b"c") != encode_parts(b"a", b"bc")
    assert encode_parts(b"a") != encode_parts(b"a", b"")


@pytest.mark.parametrize(
    ("left", "right"),
    [
        (("ab", "c", 1), ("a", "bc", 1)),
        (("a", "b", 1), ("a", "b", 2)),
        (("subject", "email", 1), ("email", "subject", 1)),
        (("s", "f", 0), ("s", "f", 256)),
    ],
)
def test_field_aad_distinguishes_contexts(left: tuple[str, str, int], right: tuple[str, str, int]) -> None:
    assert field_aad(*left) != field_aad(*right)


ids = st.text(min_size=1, max_size=20)


@given(ids, ids, st.integers(0, 2**32 - 1), ids, ids, st.integers(0, 2**32 - 1))
def test_field_aad_is_injective(s1: str, f1: str, v1: int, s2: str, f2: str, v2: int) -> None:
    assert (field_aad(s1, f1, v1) == field_aad(s2, f2, v2)) == ((s1, f1, v1) == (s2, f2, v2))


@pytest.mark.parametrize(
    ("subject_id", "field", "schema_version"),
    [("", "email", 1), ("s", "", 1), ("s", "email", -1), ("s", "email", 2**32)],
)
def test_field_aad_rejects_empty_or_out_of_range(subject_id: str, field: str, schema_version: int) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 -- each case has its own message; the type is the contract
        field_aad(subject_id, field, schema_version)
