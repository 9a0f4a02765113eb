"""Attack: keep a database backup taken before a customer's erasure, and after it, with the current key
material, look in every table of the backup for anything that ties a row to her.

What the attacker knows of her: her customer id (from her export or erasure receipt), her email address (so
its blind index, computed with the current blind-index key), the pseudonyms suppliers were handed for her
(stable, and from slice releases), and what any of those computes to under the current keys. The backup is a
logical dump of every table of the database (what `pg_dump` or the SQLite snapshot holds), taken while her
account was full of data: profile, consents, slices, a request naming her, a stable pseudonym handed over, a
failed login.

Issue 18: "From a pre-erasure backup plus the current key material, no row of any table can be linked to
the erased customer's id, email blind index or pseudonyms." Issue 20 adds her relay address for a supplier,
which opens under the relay key to her customer id and a marker: the backup must not hold that marker where
it could be matched.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from infomediary.aliases import service as aliases
from infomediary.audiences.models import AudienceIndexRow
from infomediary.customers import directory
from infomediary.customers.blind_index import email_index
from infomediary.database import Base
from infomediary.pseudonyms import service as pseudonyms
from infomediary.runtime import Runtime
from tests.fixtures.actors import Client, Consumer, erase, make_consumer, make_supplier
from tests.fixtures.audiences import PROFILE
from tests.fixtures.consents import grant, later, pseudonym_for, publish

K = 5
CATEGORIES = ["identity", "contact", "demographics", "interests", "finances"]
SLICE = {"purpose": "marketing", "fields": ["birth_date", "postal_code", "gender", "interests"]}

Dump = dict[str, list[dict[str, Any]]]


def _dump(runtime: Runtime) -> Dump:
    """Every row of every table, as a backup holds them."""
    with runtime.read_session_factory() as session:
        return {
            table.name: [dict(row._mapping) for row in session.execute(select(table))]
            for table in Base.metadata.sorted_tables
        }


def _haystack(value: Any) -> bytes:
    if value is None:
        return b""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, dict | list):
        return json.dumps(value, default=str).encode()
    return str(value).encode()


def _found(dump: Dump, needles: dict[str, bytes]) -> list[str]:
    hits = []
    for table, rows in dump.items():
        for row in rows:
            for column, value in row.items():
                hay = _haystack(value)
                hits += [f"{name} in {table}.{column}" for name, needle in needles.items() if needle in hay]
    return hits


def _slice_pseudonyms(http: TestClient, supplier: Client) -> set[str]:
    response = http.post("/v1/slices", json=SLICE, headers=supplier.headers(http))
    assert response.status_code == 200, response.text
    return {json.loads(line)["pseudonym"] for line in response.text.splitlines() if line}


def _her_pseudonyms(runtime: Runtime, supplier: Client, values: set[str], subject_id: str) -> set[str]:
    """Which of a release's pseudonyms are hers (resolved while she still exists)."""
    with runtime.read_session_factory() as session:
        return {p for p in values if pseudonyms.resolve(session, runtime, supplier.owner_id, p) == subject_id}


def _identifiers(runtime: Runtime, her: Consumer, handed: list[str], alias: str) -> dict[str, bytes]:
    """Her identifiers, and what each computes to under the current key material, in every encoding a
    column could hold them."""
    index = email_index(runtime.keys.secret("blind_index"), her.email)
    throttle = hmac.new(runtime.keys.secret("throttle"), b"account\x00" + index, hashlib.sha256).digest()
    needles = {
        "customer id": her.shown_id.encode(),
        "email": her.email.encode(),
        "email blind index": index,
        "email blind index (hex)": index.hex().encode(),
        "throttle key of her address": throttle,
    }
    # Her relay address for the shop (issue 20), and what it opens to under the current relay key.
    local = alias.split("@")[0]
    needles["relay address"] = local.encode()
    needles["relay address (raw)"] = base64.b32decode(local.upper() + "=" * (-len(local) % 8))
    # What the attacker decrypts it to with the relay key: her customer id and the address's marker.
    opened = aliases._opened(runtime, local)
    assert opened is not None and opened[0] == her.shown_id
    needles["relay address marker"] = opened[1]
    for n, value in enumerate(handed):
        needles[f"pseudonym {n}"] = value.encode()
        needles[f"pseudonym {n} (raw)"] = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    return needles


def test_a_backup_taken_before_an_erasure_ties_no_row_to_her(http: TestClient, runtime: Runtime) -> None:
    people = [make_consumer(http) for _ in range(K + 1)]
    her = people[0]
    for person in people:
        changes = {**PROFILE, "given_name": "Zelda"}
        assert http.patch("/v1/me/profile", json=changes, headers=person.headers).status_code == 200
    shop, rival = make_supplier(runtime), make_supplier(runtime)
    for supplier in (shop, rival):
        publish(http, supplier, ["marketing"], CATEGORIES)
    assert grant(http, her, shop.owner_id, "marketing", "interests").status_code == 201
    # A stable pseudonym handed to each supplier, two slice releases each, and a request naming her by one.
    handed = [pseudonym_for(http, her, shop), pseudonym_for(http, her, rival)]
    for supplier in (shop, rival):
        for _ in range(2):
            handed += _her_pseudonyms(runtime, supplier, _slice_pseudonyms(http, supplier), her.id)
    assert len(handed) == 6, "each release names her once, under a pseudonym of its own"
    request = {"purpose": "marketing", "categories": ["demographics"], "expires_at": later()}
    asked = http.post("/v1/requests", json={**request, "pseudonym": handed[2]}, headers=shop.headers(http))
    assert asked.status_code == 201, asked.text
    failed = http.post("/v1/session", json={"email": her.email, "password": "not her password at all"})
    assert failed.status_code == 401
    publish(http, shop, ["marketing", "direct_marketing"], CATEGORIES)
    assert grant(http, her, shop.owner_id, "direct_marketing", "contact").status_code == 201
    [alias] = http.get("/v1/me/aliases", headers=her.headers).json()["aliases"]
    with runtime.read_session_factory() as session:
        opened = aliases.resolve(session, runtime, alias["address"])
    assert opened is not None and opened.customer_id == her.id
    needles = _identifiers(runtime, her, handed, alias["address"])

    backup = _dump(runtime)

    # The backup is full of her: her account, her index row, her request, keyed by her internal id; and
    # while she exists, the key store maps what the attacker knows to that id. So the search below has
    # something to miss.
    assert [r for r in backup["customers"] if r["id"] == her.id]
    assert [r for r in backup[AudienceIndexRow.__tablename__] if r["customer_id"] == her.id]
    assert [r for r in backup["supplier_requests"] if r["customer_id"] == her.id]
    assert directory.subject_by_customer_id(runtime, her.shown_id) == her.id
    # No identifier of hers is in any table, even before her erasure: the names live with her key.
    assert _found(backup, needles) == []

    assert erase(http, her.headers).status_code == 200

    # With the current key material, nothing the attacker knows leads to her internal id any more.
    assert directory.subject_by_customer_id(runtime, her.shown_id) is None
    with runtime.read_session_factory() as session:
        index = email_index(runtime.keys.secret("blind_index"), her.email)
        assert directory.subject_by_login(session, runtime, index) is None
        assert aliases.resolve(session, runtime, alias["address"]) is None
        for supplier, value in [(shop, p) for p in handed[::2]] + [(rival, p) for p in handed[1::2]]:
            with pytest.raises(pseudonyms.PseudonymUnknown):
                pseudonyms.resolve(session, runtime, supplier.owner_id, value)
    # Nor to any other id of the backup: no name in the store points at a subject the backup holds
    # that is not a live customer's.
    live = {p.id for p in people[1:]}
    backed_up = {r["id"] for r in backup["customers"]}
    named = set(runtime.vault.names_of(directory.KIND_CUSTOMER_ID, backed_up))
    assert named == live and her.id not in named
    # Her sealed rows are unreadable: her erasure key is gone (tombstoned, an id and a time).
    assert her.id in runtime.vault.tombstones()
    # The others are untouched.
    assert all(http.get("/v1/me", headers=p.headers).status_code == 200 for p in people[1:])
