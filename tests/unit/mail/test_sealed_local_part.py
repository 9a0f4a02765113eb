"""Sealed local parts: they open to what was sealed, under their own key and label only, and only in the
one spelling the relay wrote (upper or lower case alike, since mail may change the case)."""

from __future__ import annotations

import os

from hypothesis import given
from hypothesis import strategies as st

from infomediary.mail.sealed_local_part import BASE32, SealedLocalPart

ALIAS = SealedLocalPart(b"test.alias.v1")
REPLY = SealedLocalPart(b"test.reply.v1", prefix="r-")
SECRET = os.urandom(32)


@given(plaintext=st.binary(min_size=16, max_size=16))
def test_a_sealed_local_part_opens_to_what_was_sealed_in_any_case(plaintext: bytes) -> None:
    local = REPLY.seal(SECRET, plaintext)
    assert len(local) == 54 and local.startswith("r-") and set(local[2:]) <= BASE32
    assert REPLY.open(SECRET, local, size=16) == plaintext
    assert REPLY.open(SECRET, local.upper(), size=16) == plaintext


@given(plaintext=st.binary(min_size=16, max_size=16), position=st.integers(0, 51), data=st.data())
def test_any_other_spelling_opens_to_nothing(plaintext: bytes, position: int, data: st.DataObject) -> None:
    local = ALIAS.seal(SECRET, plaintext)
    other = data.draw(st.sampled_from(sorted(BASE32 - {local[position]})))
    altered = local[:position] + other + local[position + 1 :]
    assert ALIAS.open(SECRET, altered, size=16) is None


def test_a_local_part_opens_only_under_its_own_kind_and_key() -> None:
    plaintext = bytes(range(16))
    alias = ALIAS.seal(SECRET, plaintext)
    assert SealedLocalPart(b"test.reply.v1").open(SECRET, alias, size=16) is None
    assert ALIAS.open(os.urandom(32), alias, size=16) is None
    assert ALIAS.open(SECRET, alias, size=15) is None
    assert ALIAS.open(SECRET, alias[:-1], size=16) is None
    assert REPLY.open(SECRET, alias, size=16) is None  # no prefix
    assert ALIAS.open(SECRET, "not-an-address", size=16) is None
