"""The generalisation ladder of each sliceable field: exact values per level, the top of each ladder, and
that climbing a level only ever merges classes (which is what lets k-anonymity climb to reach k)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infomediary.audiences.dimensions import INTERESTS
from infomediary.slices import generalise as g
from infomediary.slices.fields import SLICEABLE, SliceField

TODAY = date(2026, 6, 15)
# Every sliceable field is a quasi-identifier (a column two slices share is a join key).
QUASI = list(SLICEABLE.values())


def born_aged(years: int, days_after_birthday: int = 0) -> str:
    """The ISO birth date of someone who turned `years` old `days_after_birthday` days before TODAY."""
    birthday = TODAY - timedelta(days=days_after_birthday)
    return birthday.replace(year=birthday.year - years).isoformat()


# --- exact values ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "level", "band"),
    [
        (18, 0, "18-27"),
        (27, 0, "18-27"),
        (28, 0, "28-37"),
        (77, 0, "68-77"),
        (78, 0, "78+"),  # the top band is open: the very old are few and easily singled out
        (104, 0, "78+"),
        (18, 1, "18-37"),
        (37, 1, "18-37"),
        (38, 1, "38-57"),
        (77, 1, "58-77"),
        (78, 1, "78+"),
        (18, 2, "18+"),
        (90, 2, "18+"),
    ],
)
def test_age_bands_start_at_18_and_widen_by_level(age: int, level: int, band: str) -> None:
    assert g.age_band(born_aged(age), TODAY, level) == band


@pytest.mark.parametrize("level", [0, 1, 2, 5])
def test_minors_are_never_released_and_the_18th_birthday_counts_from_the_day(level: int) -> None:
    assert g.age_band(born_aged(18, days_after_birthday=-1), TODAY, level) is None  # 18 tomorrow
    assert g.age_band(born_aged(17), TODAY, level) is None
    assert g.age_band(born_aged(18), TODAY, level) is not None  # 18 today


@given(age=st.integers(18, 120), level=st.integers(0, 1))
def test_every_age_from_78_shares_the_one_open_band_and_no_band_overlaps_it(age: int, level: int) -> None:
    # A 100-year-old in a band of their own ("98+") would be singled out, and "88+" beside "78+" would
    # give one slice two overlapping meanings.
    band = g.age_band(born_aged(age), TODAY, level)
    assert band is not None
    if age >= 78:
        assert band == "78+"
    else:
        low, high = (int(part) for part in band.split("-"))
        assert 18 <= low <= age <= high < 78


def test_an_age_counts_whole_years_to_the_day() -> None:
    assert g.age_band(born_aged(28, days_after_birthday=-1), TODAY, 0) == "18-27"  # 28 tomorrow
    assert g.age_band(born_aged(28), TODAY, 0) == "28-37"


@pytest.mark.parametrize(
    ("code", "level", "prefix"),
    [
        ("75011", 0, "75"),
        ("75011", 1, "7"),
        ("75011", 2, "*"),
        ("m1 1ae", 0, "M1"),  # normalised: separators dropped, upper case
        ("-7-5-", 0, "75"),
        ("7", 0, None),  # too short to generalise to two characters
        ("é1", 0, None),  # not ASCII: could single out a foreign address
        ("é1", 2, "*"),
    ],
)
def test_postal_prefixes_shorten_by_level(code: str, level: int, prefix: str | None) -> None:
    assert g.postal_prefix(code, TODAY, level) == prefix


@pytest.mark.parametrize(("size", "shown"), [(1, "1"), (4, "4"), (5, "5+"), (9, "5+")])
def test_households_of_five_or_more_share_one_value(size: int, shown: str) -> None:
    assert g.household(size, TODAY, 0) == shown
    assert g.household(size, TODAY, 1) == g.SUPPRESSED


@pytest.mark.parametrize("level", [0, 1, 2])
def test_life_events_keep_the_month_then_the_year_then_only_the_kind(level: int) -> None:
    events: list[Any] = [
        {"kind": "moved", "date": "2024-03-17"},
        {"kind": "moved", "date": "2024-03-02"},  # the same month: one event once generalised
        {"kind": "married", "date": "2019-11-30"},
        {"kind": "no date"},  # malformed entries are left out
        "moved",
    ]
    expected = [
        (("married", "2019-11"), ("moved", "2024-03")),
        (("married", "2019"), ("moved", "2024")),
        (("married", "*"), ("moved", "*")),
    ]
    assert g.life_events(events, TODAY, level) == expected[level]


def test_only_vocabulary_interests_are_released_normalised_and_sorted() -> None:
    stored = [" Cycling ", "cooking", "my neighbour's cat", "COOKING", 3]
    assert g.interests(stored, TODAY, 0) == ("cooking", "cycling")


@pytest.mark.parametrize(
    ("level", "shown"),
    [
        (0, ("cycling", "music", "running", "theatre")),
        (1, ("arts & culture", "sport & outdoors")),  # parent categories
        (2, "1-2"),  # how many parent categories
        (3, g.SUPPRESSED),
    ],
)
def test_interests_climb_from_the_set_to_categories_to_how_many_to_withheld(
    level: int, shown: tuple[str, ...] | str
) -> None:
    assert g.interests(["running", "cycling", "theatre", "music"], TODAY, level) == shown


def test_every_vocabulary_interest_has_a_parent_category() -> None:
    assert set(g.INTEREST_PARENTS) == set(INTERESTS)


@pytest.mark.parametrize(
    ("size", "band"), [(0, "0"), (1, "1-2"), (2, "1-2"), (3, "3-5"), (5, "3-5"), (6, "6+")]
)
def test_count_bands(size: int, band: str) -> None:
    assert g.count_band(size) == band


def test_tags_are_deduplicated_and_sorted_and_languages_keep_the_primary_subtag() -> None:
    assert g.tags(["sms", "email", "sms", 1], TODAY, 0) == ("email", "sms")
    assert g.tags(["sms", "email", "sms", 1], TODAY, 1) == "1-2"
    assert g.language("pt-BR", TODAY, 0) == "pt"
    assert g.language("fr", TODAY, 0) == "fr"
    assert g.language("fr", TODAY, 1) == g.SUPPRESSED


@pytest.mark.parametrize(
    ("generaliser", "value"),
    [
        (g.age_band, 19900501),
        (g.postal_prefix, 75011),
        (g.household, True),  # bool is an int in Python, not a household size
        (g.household, "3"),
        (g.same, True),
        (g.same, ["female"]),
        (g.life_events, "moved"),
        (g.interests, "cycling"),
        (g.tags, "email"),
        (g.language, ["fr"]),
    ],
)
def test_a_value_of_the_wrong_shape_is_not_released(generaliser: Any, value: Any) -> None:
    assert generaliser(value, TODAY, 0) is None


@pytest.mark.parametrize("value", ["female", 3])
def test_closed_vocabulary_values_pass_at_level_0_and_are_hidden_above(value: str | int) -> None:
    assert g.same(value, TODAY, 0) == value
    assert g.same(value, TODAY, 1) == g.SUPPRESSED


# --- the top of each ladder --------------------------------------------------------------------------------

birth_dates = st.dates(min_value=date(1900, 1, 1), max_value=TODAY).map(date.isoformat)
postal_codes = st.text(alphabet="0123456789ABCXYZ -", min_size=0, max_size=8)
life_event_lists = st.lists(
    st.fixed_dictionaries(
        {
            "kind": st.sampled_from(["moved", "married", "new_child"]),
            "date": st.dates(min_value=date(2000, 1, 1), max_value=TODAY).map(date.isoformat),
        }
    ),
    max_size=4,
)
VALUES: dict[str, st.SearchStrategy[Any]] = {
    "birth_date": birth_dates,
    "postal_code": postal_codes,
    "gender": st.sampled_from(["female", "male", "non_binary"]),
    "country": st.sampled_from(["FR", "DE", "GB"]),
    "household_size": st.integers(1, 9),
    "income_band": st.integers(1, 5),
    "life_events": life_event_lists,
    "interests": st.lists(st.sampled_from([*INTERESTS, "Cycling ", "my cat"]), max_size=8),
    "preferred_channels": st.lists(st.sampled_from(["email", "sms", "post", "phone"]), max_size=4),
    "language": st.sampled_from(["fr", "fr-CA", "pt-BR", "de"]),
    "net_worth_band": st.sampled_from(["under_10k", "10k_100k", "over_1m"]),
}


def test_every_quasi_identifier_has_values_to_test() -> None:
    assert {f.key for f in QUASI} == set(VALUES)


@pytest.mark.parametrize("field", QUASI, ids=lambda f: f.key)
@given(data=st.data(), above=st.integers(1, 50))
def test_levels_above_the_top_of_a_ladder_change_nothing(
    field: SliceField, data: st.DataObject, above: int
) -> None:
    # The slice asks every field for one level, possibly above a field's own top: that field stays at
    # its top, never raising an error nor (worse) wrapping round to a finer level.
    value = data.draw(VALUES[field.key])
    assert field.generalise(value, TODAY, field.levels + above) == field.generalise(
        value, TODAY, field.levels
    )


@pytest.mark.parametrize("field", QUASI, ids=lambda f: f.key)
@given(data=st.data())
def test_the_top_of_each_ladder_says_no_more_than_presence_or_kinds(
    field: SliceField, data: st.DataObject
) -> None:
    top = field.generalise(data.draw(VALUES[field.key]), TODAY, field.levels)
    if field.key == "birth_date":
        assert top in ("18+", None)
    elif field.key == "life_events":
        assert all(when == g.SUPPRESSED for _, when in top)
    else:
        assert top == g.SUPPRESSED


# Postal codes of fewer than two usable characters are None at level 0 but their one character at level 1,
# so the one ladder that can split a class is left out; k-anonymity is checked at the chosen level anyway.
well_formed_postal_codes = st.from_regex(r"[0-9A-Z]{2,6}", fullmatch=True)


@pytest.mark.parametrize("field", QUASI, ids=lambda f: f.key)
@given(data=st.data())
def test_a_higher_level_only_merges_classes(field: SliceField, data: st.DataObject) -> None:
    values = well_formed_postal_codes if field.key == "postal_code" else VALUES[field.key]
    a, b = data.draw(values), data.draw(values)
    for level in range(field.levels):
        if field.generalise(a, TODAY, level) == field.generalise(b, TODAY, level):
            assert field.generalise(a, TODAY, level + 1) == field.generalise(b, TODAY, level + 1)
