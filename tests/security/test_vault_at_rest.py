"""Attack: copy the database (the SQLite file, or every PostgreSQL row) after the demo population was seeded
and look for any profile value or activity detail the demo wrote, in the clear."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from infomediary.audiences.dimensions import AGE_BANDS, GENDERS
from infomediary.customers.models import Customer
from infomediary.database import unit_of_work
from infomediary.demo import seed_demo
from infomediary.models import Base
from infomediary.profiles import activity
from infomediary.profiles import service as profiles
from infomediary.profiles.fields import FIELDS
from infomediary.runtime import Runtime
from tests.fixtures.raw_scan import raw_database_bytes

# Real commits on the real engines: this module's tests race connections or read what a commit leaves.
pytestmark = pytest.mark.committing

# Clear by design (documented in the models): record kinds and times, used for paging and RFM windows.
CLEAR_BY_DESIGN = {"kind", "occurred_at"}
HEX = re.compile(r"^[0-9a-fA-F]+$")
RECENT_DATE = re.compile(r"^20[2-9][0-9]-[0-9]{2}-[0-9]{2}$")
# Names the schema itself stores in the clear (field keys, table and column names): a value such as "post"
# (a contact channel) is a substring of "postal_code" without anything having leaked.
# The documented exception (non-negotiable 1): the audience index holds generalised values from fixed domains
# (a gender, an age band), never a value that names or locates a person.
# Interests are a bitmask there, so interest words stay searched.
AUDIENCE_INDEX_VALUES = {*AGE_BANDS, *GENDERS}
SCHEMA_WORDS = " ".join(
    [*FIELDS, *(f"{t.name} {' '.join(t.columns.keys())}" for t in Base.metadata.sorted_tables)]
)


def _strings(value: Any, key: str = "") -> list[str]:
    if key in CLEAR_BY_DESIGN:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in _strings(v, k)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def test_no_demo_profile_value_is_stored_in_plaintext(runtime: Runtime) -> None:
    seed_demo(runtime, customers=60, seed=11)
    secrets: set[str] = set()
    with unit_of_work(runtime.read_session_factory) as session:
        ids = session.scalars(select(Customer.id)).all()
        assert len(ids) == 60
        for customer_id in ids:
            secrets.update(_strings(profiles.stored_values(session, runtime, customer_id)))
            for view in activity.list_activity(session, runtime, customer_id, limit=500):
                secrets.update(_strings(view.record))
    # Short strings (two-letter country codes, "app") and pure hex would match ciphertext bytes or the hex
    # rendering of PostgreSQL bytea by chance, and recent dates (life events) match the clear timestamps of
    # activity and account rows; birth dates, decades old, are still searched. Everything else must be absent.
    needles = {
        s
        for s in secrets
        if len(s) >= 4
        and s not in AUDIENCE_INDEX_VALUES
        and not HEX.match(s)
        and not RECENT_DATE.match(s)
        and s.lower() not in SCHEMA_WORDS
    }
    assert len(needles) > 100, "the demo wrote too little to make the scan meaningful"
    assert any("@demo.example.org" in s for s in needles) and any(s.startswith("sku:") for s in needles)

    raw = raw_database_bytes(runtime)
    assert b"Demo Shop" in raw, "the scan must see ordinary data, or it proves nothing"
    found = [s for s in needles if s.encode() in raw or s.lower().encode() in raw]
    # A needle of 8 bytes or more cannot appear in ciphertext by chance: none may be found. Shorter ones can:
    # a few hundred 4-byte names searched in megabytes of AES-GCM output match somewhere in about one run in
    # five. A storage path that leaked would expose most of them, not one or two, so allow two chance hits.
    long_found = [s for s in found if len(s.encode()) >= 8]
    short_found = [s for s in found if len(s.encode()) < 8]
    assert long_found == [], f"plaintext found at rest: {long_found[:10]}"
    assert len([s for s in needles if len(s.encode()) < 8]) > 50, "too few short values to judge"
    assert len(short_found) <= 2, f"short values found at rest, more than chance explains: {short_found[:10]}"
