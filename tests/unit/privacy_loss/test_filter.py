"""The individual privacy filter, pure: no customer's loss ever passes her cap, whatever the releases."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from pyroaring import BitMap

from infomediary.privacy_loss.filter import admit

MEMBERS = st.lists(st.integers(min_value=0, max_value=300), max_size=60).map(BitMap)
RELEASES = st.lists(st.tuples(MEMBERS, st.integers(min_value=1, max_value=900)), max_size=25)
CAPS = st.dictionaries(
    st.integers(min_value=0, max_value=300), st.integers(min_value=0, max_value=3000), max_size=10
)


@given(releases=RELEASES, default_cap=st.integers(min_value=0, max_value=3000), caps=CAPS)
def test_the_filter_admits_exactly_those_within_their_cap_and_charges_only_them(
    releases: list[tuple[BitMap, int]], default_cap: int, caps: dict[int, int]
) -> None:
    losses = np.zeros(0, dtype=np.uint32)
    expected: dict[int, int] = {}
    for members, epsilon in releases:
        before = dict(expected)
        losses, admitted = admit(losses, members, epsilon, default_cap, caps)
        for member in members:
            cap = caps.get(member, default_cap)
            fits = before.get(member, 0) + epsilon <= cap
            assert (member in admitted) == fits
            if fits:
                expected[member] = before.get(member, 0) + epsilon
        assert admitted <= members  # only the release's own population is ever admitted
        for member in range(len(losses)):
            assert int(losses[member]) == expected.get(member, 0)
            assert int(losses[member]) <= caps.get(member, default_cap)


def test_a_release_past_the_end_of_the_array_grows_it() -> None:
    losses, admitted = admit(np.zeros(3, dtype=np.uint32), BitMap([2, 10]), 5, 100, {})
    assert list(admitted) == [2, 10] and len(losses) > 10 and losses[10] == 5 and losses[2] == 5
