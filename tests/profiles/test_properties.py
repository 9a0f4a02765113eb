"""Properties: every value any profile field accepts comes back unchanged through the vault, and the export
contains every value stored, profile and activity alike."""

from __future__ import annotations

import json
import re
import typing
from datetime import UTC, date, datetime, timedelta
from typing import Any

import anyio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter
from sqlalchemy import insert

from infomediary.customers import directory
from infomediary.customers.models import Customer
from infomediary.database import unit_of_work, utcnow
from infomediary.demo import DISABLED_PASSWORD
from infomediary.ids import new_id
from infomediary.portability import export
from infomediary.profiles import activity, datakeys
from infomediary.profiles import service as profiles
from infomediary.profiles.fields import FIELDS, Channel, Gender, IncomeBand, LifeEvent, NetWorthBand
from infomediary.profiles.records import ActivityIn
from infomediary.runtime import Runtime

TODAY = datetime.now(UTC).date()
# Any text but NUL (`infomediary.text.Text`), and a search query is one line (`Line`: no control character).
texts = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\x00"),
    min_size=1,
    max_size=60,
)
lines = st.text(
    st.characters(
        codec="utf-8", exclude_categories=("Cs",), exclude_characters=[*map(chr, range(32)), "\x7f"]
    ),
    min_size=1,
    max_size=60,
)
names = texts.filter(lambda s: s.strip() != "")
tags = st.lists(names, max_size=8)
past_dates = st.dates(min_value=date(1900, 1, 1), max_value=TODAY)


def _literal(alias: Any) -> st.SearchStrategy[str]:
    return st.sampled_from(typing.get_args(alias))


STRATEGIES: dict[str, st.SearchStrategy[Any]] = {
    "given_name": names,
    "family_name": names,
    "email": st.emails().filter(lambda e: len(e) < 200),
    # Stripping can shorten a drawn number below the pattern's minimum ("+00000 "): keep only valid ones.
    "phone": st.from_regex(r"\A\+?[0-9][0-9 ()./-]{5,24}\Z")
    .map(str.strip)
    .filter(lambda s: re.fullmatch(r"\+?[0-9][0-9 ()./-]{5,24}", s) is not None),
    "street_address": names,
    "postal_code": st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9 -]{0,10}[A-Za-z0-9]\Z"),
    "city": names,
    "country": st.from_regex(r"\A[A-Z]{2}\Z"),
    "birth_date": past_dates,
    "gender": _literal(Gender),
    "household_size": st.integers(1, 30),
    "occupation": names,
    "income_band": _literal(IncomeBand),
    "interests": tags,
    "preferred_channels": st.lists(_literal(Channel), max_size=5),
    "preferred_brands": tags,
    "language": st.from_regex(r"\A[a-z]{2,3}(-[A-Za-z0-9]{2,8}){0,2}\Z"),
    "life_events": st.lists(
        st.builds(LifeEvent, kind=_literal(LifeEvent.model_fields["kind"].annotation), date=past_dates),
        max_size=4,
    ),
    "home_location": st.fixed_dictionaries(
        {"latitude": st.floats(-90, 90), "longitude": st.floats(-180, 180)}
    ),
    "health_conditions": tags,
    "dietary_requirements": tags,
    "religion": names,
    "ethnicity": names,
    "political_opinion": names,
    "sexual_orientation": names,
    "net_worth_band": _literal(NetWorthBand),
    "monthly_savings": st.integers(0, 10**12),
}

items = st.from_regex(r"\A[\x21-\x7e]{1,20}\Z")
# Hypothesis takes naive bounds and attaches the time zone itself.
_latest = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=1)
moments = st.datetimes(min_value=datetime(2001, 1, 1), max_value=_latest, timezones=st.just(UTC))  # noqa: DTZ001
activity_records = st.one_of(
    st.fixed_dictionaries({"kind": st.just("view"), "occurred_at": moments, "item": items}),
    st.fixed_dictionaries({"kind": st.just("search"), "occurred_at": moments, "query": lines}),
    st.fixed_dictionaries(
        {"kind": st.just("rating"), "occurred_at": moments, "item": items, "value": st.integers(1, 5)}
    ),
    st.fixed_dictionaries(
        {
            "kind": st.just("purchase"),
            "occurred_at": moments,
            "amount": st.integers(0, 10**9),
            "currency": st.sampled_from(["EUR", "USD", "JPY"]),
            "items": st.lists(
                st.fixed_dictionaries({"item": items, "quantity": st.integers(1, 9)}), min_size=1, max_size=3
            ),
        }
    ),
)
RECORDS = TypeAdapter(list[ActivityIn])
PROPERTY_SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def test_every_field_has_a_strategy() -> None:
    assert set(STRATEGIES) == set(FIELDS)


def _new_customer(runtime: Runtime) -> datakeys.CustomerCipher:
    customer_id = new_id("sub")
    directory.name_loaded_accounts(runtime, {customer_id: customer_id.encode()[:32]})
    with unit_of_work(runtime.session_factory) as session:
        now = utcnow()
        session.execute(
            insert(Customer),
            [
                {
                    "id": customer_id,
                    "password_hash": DISABLED_PASSWORD,
                    "created_at": now,
                    "password_changed_at": now,
                }
            ],
        )
        return datakeys.create(session, runtime, [customer_id])[0]


@PROPERTY_SETTINGS
@given(data=st.data())
def test_every_field_type_round_trips_through_the_vault(runtime: Runtime, data: st.DataObject) -> None:
    cipher = _new_customer(runtime)
    values = {key: data.draw(strategy, label=key) for key, strategy in STRATEGIES.items() if key != "email"}
    expected = profiles.validate_changes(values)
    with unit_of_work(runtime.session_factory) as session:
        profiles.apply_changes(session, runtime, cipher.customer_id, values, cipher=cipher)
    runtime.vault.forget_all()  # read back through a fresh unwrap, as another worker would
    with unit_of_work(runtime.read_session_factory) as session:
        stored = profiles.stored_values(session, runtime, cipher.customer_id)
    assert stored == {k: v for k, v in expected.items() if v is not None}


@PROPERTY_SETTINGS
@given(
    profile=st.fixed_dictionaries({}, optional={k: v for k, v in STRATEGIES.items() if k != "email"}),
    records=st.lists(activity_records, max_size=30),
)
def test_export_contains_every_stored_value(
    runtime: Runtime, profile: dict[str, Any], records: list[dict[str, Any]]
) -> None:
    cipher = _new_customer(runtime)
    with unit_of_work(runtime.session_factory) as session:
        profiles.apply_changes(session, runtime, cipher.customer_id, profile, cipher=cipher)
        if records:
            activity.record(
                session, runtime, cipher.customer_id, RECORDS.validate_python(records), cipher=cipher
            )
    with unit_of_work(runtime.read_session_factory) as session:
        stored = profiles.stored_values(session, runtime, cipher.customer_id)
        stored_records = activity.list_activity(session, runtime, cipher.customer_id, limit=200)

    async def download() -> bytes:
        reads = runtime.open_request_sessions().reads
        return b"".join([chunk async for chunk in export.stream(reads, runtime, cipher.customer_id)])

    document = json.loads(anyio.run(download))
    assert {f["key"]: f["value"] for f in document["profile"]} == stored
    assert [a["record"] for a in document["activity"]] == [r.record for r in stored_records]
    assert len(document["activity"]) == len(records)
    assert len(document["history"]) == len(stored)
